//! `gdn`: generalized divisive normalization (Ballé et al.), TF-Slim's `gdn`: each channel divided (or, inverse,
//! multiplied) by `sqrt(beta_i + Σ_j gamma_ji · x_j²)` at every position, with `beta` and `gamma` kept as
//! lower-bounded square roots.

use tch::Tensor;

use super::layer_scope::{LayerScope, check_channels, check_rank, collect};
use super::params::{ParamSpec, model_param};
use super::protocol::{BuildLayer, HasVariables};
use super::types::{Collections, DataFormat};
use crate::arg_scope::scope_args;
use crate::error::TorchContext;
use crate::initializers::Initializer;
use crate::model::tape::Layer;
use crate::native::lower_bound;
use crate::variables::VarStore;
use crate::{Error, Result};

scope_args! {
    /// The arguments of [`gdn`](fn@gdn).
    pub struct Args => Options for "gdn" [Call] {
        /// Compute the inverse (IGDN): multiply by the norm instead of dividing (default false).
        inverse: bool = false,
        /// Lower bound of beta (default 1e-6), so the norm never reaches 0.
        beta_min: f64 = 1e-6,
        /// Gamma starts as this times the identity (default 0.1).
        gamma_init: f64 = 0.1,
        /// Offset of the square-root reparameterization (default 2⁻¹⁸).
        reparam_offset: f64 = 1.0 / 262_144.0,
        /// Where the channels are (default `Nchw`: first; `Nhwc`: last, TF's `channels_last`).
        data_format: DataFormat = DataFormat::Nchw,
        /// Whether the variables are trainable (default true).
        trainable: bool = true,
        /// Extra collections for the variables.
        variables_collections: Collections = Collections::default(),
        /// Collections the output is added to, under the layer's scope name.
        outputs_collections: Collections = Collections::default(),
    }
}

/// A call of [`gdn`](fn@gdn) being configured; finish it with [`Call::call`](super::Call::call).
pub type Call = super::Call<Gdn>;

/// TF-Slim's `gdn(inputs, inverse=False, beta_min=1e-6, gamma_init=0.1, reparam_offset=2**-18)` of rank-3 to
/// rank-5 inputs, scope `gdn` (made unique). Variables `reparam_beta` `[C]` and `reparam_gamma` `[C, C]` (TF's
/// layout: `gamma[j, i]` weighs channel `j` in channel `i`'s norm), initialized so that beta is 1 and gamma is
/// `gamma_init · I`.
pub fn gdn(inputs: &Tensor) -> Call {
    Call::new(inputs, (), Args::default())
}

impl BuildLayer for Gdn {
    type Args = Args;
    type Positional = ();
    const DEFAULT_SCOPE: &'static str = "gdn";
    const REPEAT_NAME: &'static str = "gdn";

    fn build(scope: &LayerScope, inputs: &Tensor, (): (), args: Args) -> Result<(Self, Tensor)> {
        let o = args.resolve();
        let name = scope.name.as_str();
        check_rank(name, "GDN", inputs, &[3, 4, 5])?;
        if !(o.beta_min > 0.0 && o.gamma_init >= 0.0 && o.reparam_offset > 0.0) {
            return Err(Error::invalid(
                name,
                format!(
                    "beta_min and reparam_offset must be positive and gamma_init at least 0, got {}, {} and {}",
                    o.beta_min, o.reparam_offset, o.gamma_init
                ),
            ));
        }
        let channels = o.data_format.view_channels_first(inputs).size()[1];
        let pedestal = o.reparam_offset * o.reparam_offset;
        let beta_init = Initializer::Constant((1.0 + pedestal).sqrt());
        let (gamma_init, gamma_pedestal) = (o.gamma_init, pedestal);
        let gamma_init = Initializer::custom(move |shape, kind, device| {
            let eye = Tensor::f_eye(shape[0], (kind, device))?;
            Ok((eye * gamma_init + gamma_pedestal).sqrt())
        });
        let spec = ParamSpec {
            initializer: &beta_init,
            regularizer: None,
            trainable: o.trainable,
            collections: &o.variables_collections,
        };
        let reparam_beta = model_param("reparam_beta", &[channels], &spec, None)?;
        let spec = ParamSpec { initializer: &gamma_init, ..spec };
        let reparam_gamma = model_param("reparam_gamma", &[channels, channels], &spec, None)?;
        let layer = Gdn {
            name: name.to_string(),
            reparam_beta,
            reparam_gamma,
            inverse: o.inverse,
            beta_bound: (o.beta_min + pedestal).sqrt(),
            gamma_bound: o.reparam_offset,
            pedestal,
            data_format: o.data_format,
            outputs: o.outputs_collections,
            store: scope.store.clone(),
        };
        let out = layer.forward(inputs)?;
        Ok((layer, out))
    }
}

impl HasVariables for Gdn {}

/// A built `gdn` layer.
#[derive(Debug)]
pub struct Gdn {
    name: String,
    reparam_beta: Tensor,
    reparam_gamma: Tensor,
    inverse: bool,
    beta_bound: f64,
    gamma_bound: f64,
    pedestal: f64,
    data_format: DataFormat,
    outputs: Collections,
    store: VarStore,
}

impl Gdn {
    /// `beta` and `gamma` from their bounded square roots.
    fn parameters(&self) -> tch::Result<(Tensor, Tensor)> {
        let beta = lower_bound(&self.reparam_beta, self.beta_bound)?.f_square()? - self.pedestal;
        let gamma = lower_bound(&self.reparam_gamma, self.gamma_bound)?.f_square()? - self.pedestal;
        Ok((beta, gamma))
    }

    /// The normalization of channels-last `x`: `x / sqrt(beta + x² · gamma)`, or times it when inverse.
    fn normalize(&self, x: &Tensor) -> tch::Result<Tensor> {
        let (beta, gamma) = self.parameters()?;
        let norm = x.f_square()?.f_matmul(&gamma.f_to_kind(x.kind())?)?.f_add(&beta.f_to_kind(x.kind())?)?.f_sqrt()?;
        match self.inverse {
            true => x.f_mul(&norm),
            false => x.f_div(&norm),
        }
    }
}

impl Layer for Gdn {
    fn name(&self) -> &str {
        &self.name
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        check_rank(&self.name, "GDN", x, &[3, 4, 5])?;
        let first = self.data_format.view_channels_first(x);
        check_channels(&self.name, &first, self.reparam_beta.size()[0])?;
        let last = DataFormat::Nhwc.view_from_channels_first(first);
        let y = self.normalize(&last).context(&self.name)?;
        let y = self.data_format.view_from_channels_first(DataFormat::Nhwc.view_channels_first(&y));
        collect(&self.store, self.outputs.names(), &self.name, &y);
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use tch::{Device, Kind, Tensor};

    use super::gdn;
    use crate::layers::DataFormat;
    use crate::variables::VarStore;

    /// TF-Slim's `GDNTest`: at initialization GDN is `x / sqrt(1 + 0.1 x²)` (and IGDN `x · sqrt(…)`) per element, at
    /// ranks 3 to 5, channels first or last.
    #[test]
    fn initial_gdn_and_igdn_are_tf_slims_elementwise_functions() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        for (rank, format) in
            [(3, DataFormat::Nhwc), (4, DataFormat::Nhwc), (5, DataFormat::Nhwc), (4, DataFormat::Nchw)]
        {
            let shape = &[1i64, 2, 3, 4, 3][..rank];
            let x = Tensor::rand(shape, (Kind::Float, Device::Cpu));
            let y = gdn(&x).data_format(format).call().unwrap();
            let expected = &x / (x.square() * 0.1 + 1.0).sqrt();
            assert!(y.allclose(&expected, 0.0, 1e-6, false), "rank {rank} {format:?}");
            let inverse = gdn(&x).data_format(format).inverse(true).call().unwrap();
            assert!(inverse.allclose(&(&x * (x.square() * 0.1 + 1.0).sqrt()), 0.0, 1e-6, false), "IGDN rank {rank}");
        }
        assert_eq!(vs.variable("gdn/reparam_gamma").unwrap().shape(), [3, 3]);
        assert_eq!(vs.variable("gdn_1/reparam_beta").unwrap().shape(), [3]);
    }

    #[test]
    fn channels_mix_through_gamma_and_bad_input_is_refused() {
        let vs = VarStore::new(Device::Cpu);
        let _store = vs.as_default();
        let x = Tensor::from_slice(&[1.0f32, 2.0]).view([1, 2, 1, 1]);
        let (layer, _) = gdn(&x).scope("mix").build().unwrap();
        let gamma = vs.variable("mix/reparam_gamma").unwrap();
        // gamma[0][1] = 0.25 (reparam 0.5): channel 0 weighs into channel 1's norm.
        tch::no_grad(|| {
            gamma.tensor().shallow_clone().copy_(&Tensor::from_slice(&[0.0f32, 0.5, 0.0, 0.0]).view([2, 2]))
        });
        let y = crate::model::tape::Layer::forward(&layer, &x).unwrap();
        let expected = Tensor::from_slice(&[1.0f32, 2.0 / (1.0f32 + 0.25).sqrt()]).view([1, 2, 1, 1]);
        assert!(y.allclose(&expected, 1e-5, 1e-6, false), "{y}");
        let error = gdn(&Tensor::ones([2, 3], (Kind::Float, Device::Cpu))).call().unwrap_err().to_string();
        assert!(error.contains("rank 3 or 4 or 5"), "{error}");
        let error = crate::model::tape::Layer::forward(&layer, &Tensor::ones([1, 3, 1, 1], (Kind::Float, Device::Cpu)));
        assert!(error.unwrap_err().to_string().contains("expects 2 input channels"));
    }
}
