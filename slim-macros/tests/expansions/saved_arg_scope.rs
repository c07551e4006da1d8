fn expansion() {
    let _ = {
        let __slim_arg_scope = if ::slim::__private::is_replaying() {
            ::core::option::Option::None
        } else {
            ::core::option::Option::Some(
                ::slim::arg_scope::ArgScope::enter(&(vgg_arg_scope(5e-4))),
            )
        };
        conv2d(&x, 4, 3).call()?
    };
}
