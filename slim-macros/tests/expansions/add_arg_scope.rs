fn block(inputs: &::slim::tch::Tensor, filters: i64) -> block::Call {
    block::Call {
        inputs: inputs.shallow_clone(),
        filters,
        args: ::core::default::Default::default(),
        scope: ::core::option::Option::None,
    }
}
#[doc = concat!(
    "The arguments and call builder of [`", "block", "`](fn@", "block", ")."
)]
mod block {
    #![allow(unused_imports)]
    use super::*;
    ///The keyword arguments of [`block`](fn@super::block): each optional; unset ones come from the active arg scope, then the function's defaults.
    #[derive(Clone, Default)]
    pub struct Args {
        #[doc = concat!("`", "stride", "`, unset by default.")]
        pub stride: ::core::option::Option<i64>,
    }
    impl Args {
        #[doc = concat!("Sets `", "stride", "`.")]
        pub fn stride(mut self, value: impl ::core::convert::Into<i64>) -> Self {
            self.stride = ::core::option::Option::Some(value.into());
            self
        }
    }
    impl ::slim::arg_scope::ScopeArgs for Args {
        const OP_NAME: &'static str = "block";
        const FIELDS: &'static [&'static str] = &["stride"];
        fn or(self, outer: &Self) -> Self {
            Args {
                stride: self.stride.or_else(|| outer.stride.clone()),
            }
        }
        fn set_fields(&self) -> ::std::vec::Vec<&'static str> {
            let mut fields = ::std::vec::Vec::new();
            if self.stride.is_some() {
                fields.push("stride");
            }
            fields
        }
    }
    ///A call of [`block`](fn@super::block) being configured; finish it with [`Call::call`].
    pub struct Call {
        pub(super) inputs: ::slim::tch::Tensor,
        pub(super) filters: i64,
        pub(super) args: Args,
        pub(super) scope: ::core::option::Option<::std::string::String>,
    }
    impl Call {
        #[doc = concat!("Sets `", "stride", "`.")]
        pub fn stride(mut self, value: impl ::core::convert::Into<i64>) -> Self {
            self.args.stride = ::core::option::Option::Some(value.into());
            self
        }
        /// Runs the function inside this variable scope (none by default).
        pub fn scope(
            mut self,
            scope: impl ::core::convert::Into<::std::string::String>,
        ) -> Self {
            self.scope = ::core::option::Option::Some(scope.into());
            self
        }
        /// Replaces all call-site keyword arguments at once.
        pub fn args(mut self, args: Args) -> Self {
            self.args = args;
            self
        }
        /// Resolves the keywords (call site, then arg scopes, then defaults) and runs the function.
        pub fn call(self) -> ::slim::Result<::slim::tch::Tensor> {
            let Call {
                inputs: __slim_inputs,
                filters,
                args: __slim_args,
                scope: __slim_scope,
            } = self;
            let (
                __slim_args,
                __slim_scope_guard,
            ): (Args, ::slim::__private::FunctionScope) = match ::slim::__private::replay_value::<
                Args,
            >("block")? {
                ::core::option::Option::Some(replayed) => replayed,
                ::core::option::Option::None => {
                    let resolved = ::slim::arg_scope::ArgScope::resolve(__slim_args);
                    let scope = ::slim::__private::FunctionScope::enter(__slim_scope)?;
                    ::slim::__private::record_value(
                        "block",
                        ::core::clone::Clone::clone(&resolved),
                    );
                    (resolved, scope)
                }
            };
            let stride: i64 = match __slim_args.stride {
                ::core::option::Option::Some(value) => value,
                ::core::option::Option::None => 1,
            };
            let inputs: &::slim::tch::Tensor = &__slim_inputs;
            let __slim_output = {
                {
                    ::slim::layers::conv2d(
                            ::slim::__private::LayerInput::layer_input(&(inputs)),
                            filters,
                            [3, 3],
                        )
                        .stride(stride)
                        .scope("conv")
                        .call()?
                }
            };
            ::slim::__private::IntoForwardResult::into_forward_result(__slim_output)
        }
    }
    impl ::slim::__private::LayerCall for Call {
        const REPEAT_NAME: &'static str = "block";
        fn with_scope(self, scope: ::std::string::String) -> Self {
            self.scope(scope)
        }
        fn call(self) -> ::slim::Result<::slim::tch::Tensor> {
            Call::call(self)
        }
    }
}
