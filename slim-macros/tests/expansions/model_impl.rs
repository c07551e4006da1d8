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
                                ::slim::layers::Conv2dArgs::default()
                                    .weights_regularizer(l2_regularizer(0.0005)),
                            )
                            .with(
                                ::slim::layers::FullyConnectedArgs::default()
                                    .weights_regularizer(l2_regularizer(0.0005)),
                            )
                            .enter(),
                    )
                };
                let net = {
                    match ::slim::__private::replay_layers(
                        "conv2d",
                        ::slim::__private::LayerInput::layer_input(&(inputs)),
                        2,
                    )? {
                        ::core::option::Option::Some(__slim_x) => __slim_x,
                        ::core::option::Option::None => {
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
                        }
                    }
                };
                let net = {
                    let __slim_input: &::slim::tch::Tensor = ::slim::__private::LayerInput::layer_input(
                        &(net),
                    );
                    match ::slim::__private::replay_layer("max_pool2d", __slim_input)? {
                        ::core::option::Option::Some(__slim_out) => __slim_out,
                        ::core::option::Option::None => {
                            ::slim::layers::max_pool2d(__slim_input, [2, 2])
                                .scope("pool1")
                                .call()?
                        }
                    }
                };
                let net = {
                    ::slim::layers::flatten(
                        ::slim::__private::LayerInput::layer_input(&(net)),
                    )?
                };
                {
                    let __slim_input: &::slim::tch::Tensor = ::slim::__private::LayerInput::layer_input(
                        &(net),
                    );
                    match ::slim::__private::replay_layer(
                        "fully_connected",
                        __slim_input,
                    )? {
                        ::core::option::Option::Some(__slim_out) => __slim_out,
                        ::core::option::Option::None => {
                            ::slim::layers::fully_connected(
                                    __slim_input,
                                    self.num_classes,
                                )
                                .activation_fn(None)
                                .scope("fc8")
                                .call()?
                        }
                    }
                }
            }
        };
        ::slim::__private::IntoForwardResult::into_forward_result(__slim_output)
    }
}
