impl ::slim::model::Model for Vgg {
    const NAME: &'static str = "Vgg";
    fn forward(&self, inputs: &Tensor) -> ::slim::Result<::slim::tch::Tensor> {
        let __slim_output = {
            {
                let __slim_arg_scope = if ::slim::__private::is_replaying() {
                    ::core::option::Option::None
                } else {
                    ::core::option::Option::Some(
                        ::slim::arg_scope::ArgScope::current()
                            .with(
                                ::slim::layers::conv2d::Args::default()
                                    .weights_regularizer(l2_regularizer(0.0005)),
                            )
                            .with(
                                ::slim::layers::fully_connected::Args::default()
                                    .weights_regularizer(l2_regularizer(0.0005)),
                            )
                            .enter(),
                    )
                };
                let net = {
                    ::slim::layers::repeat(
                        ::slim::__private::LayerInput::layer_input(&(inputs)),
                        2,
                        ::core::option::Option::Some(
                            ::core::convert::AsRef::<str>::as_ref(&("conv1")),
                        ),
                        |__slim_x: &::slim::tch::Tensor| ::slim::layers::conv2d(
                            __slim_x,
                            64,
                            [3, 3],
                        ),
                    )?
                };
                let net = {
                    ::slim::layers::max_pool2d(
                            ::slim::__private::LayerInput::layer_input(&(net)),
                            [2, 2],
                        )
                        .scope("pool1")
                        .call()?
                };
                let net = {
                    ::slim::layers::flatten(
                        ::slim::__private::LayerInput::layer_input(&(net)),
                    )?
                };
                {
                    ::slim::layers::fully_connected(
                            ::slim::__private::LayerInput::layer_input(&(net)),
                            self.num_classes,
                        )
                        .activation_fn(None)
                        .scope("fc8")
                        .call()?
                }
            }
        };
        ::slim::__private::IntoForwardResult::into_forward_result(__slim_output)
    }
}
