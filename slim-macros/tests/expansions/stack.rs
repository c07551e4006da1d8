fn expansion() {
    let _ = {
        let __slim_stack = ::slim::__private::RepeatScope::enter(
            ::core::option::Option::Some(
                ::core::convert::AsRef::<str>::as_ref(&("core")),
            ),
            "Stack",
        )?;
        let __slim_x = ::slim::tch::Tensor::shallow_clone(
            ::slim::__private::LayerInput::layer_input(&(x)),
        );
        let __slim_x = __slim_stack
            .apply(::slim::layers::conv2d(&__slim_x, 32, [3, 3]))?;
        let __slim_x = __slim_stack
            .apply(::slim::layers::conv2d(&__slim_x, 64, [1, 1]).padding(Valid))?;
        __slim_x
    };
}
