//! A batch's extra items (TF-Slim's provider items beyond image and label, such as `object/bbox`): each
//! example's item gathered across the batch, tensors padded to the largest as TF's `batch(dynamic_pad=True)`
//! pads them.

use std::collections::BTreeMap;

use tch::{Kind, Tensor};

use super::tfexample_decoder::Item;
use crate::{Error, Result};

/// One extra item of every example of a batch.
#[derive(Debug)]
pub enum BatchItem {
    /// Numbers: each example's tensor (an image item's `[C, H, W]` bytes) in `values[b]`, padded with zeros
    /// at the end of every dimension to the largest in the batch (TF's `dynamic_pad`); `sizes[b]` is example
    /// `b`'s own shape (int64 `[B, rank]`), so that the padding can be told from the values. Examples that would
    /// pad to more than 16 times the largest one's elements each (long in different dimensions) are an error.
    Tensor {
        /// `[B, …]`: the examples' tensors, padded.
        values: Tensor,
        /// `[B, rank]`: each example's shape before padding.
        sizes: Tensor,
    },
    /// Strings: each example's, as decoded.
    Bytes(Vec<Vec<Vec<u8>>>),
}

/// The extra items of a batch's examples (each a list of named items, all examples naming the same) gathered
/// by name. Tensors of one item must share a rank and a kind; `name` and `number` name the batch in an error.
pub(super) fn collate(
    examples: Vec<Vec<(String, Item)>>,
    name: &str,
    number: u64,
) -> Result<BTreeMap<String, BatchItem>> {
    let mut by_name: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for items in examples {
        for (item, value) in items {
            by_name.entry(item).or_default().push(value);
        }
    }
    let mut collated = BTreeMap::new();
    for (item, values) in by_name {
        let bad = |message: String| Error::invalid(name, format!("batch {number}: item {item:?}: {message}"));
        let gathered = gather(values).map_err(bad)?;
        collated.insert(item, gathered);
    }
    Ok(collated)
}

/// How many times the largest example's elements each example may take once padded: examples long in
/// different dimensions pad to the product of their longest sides.
const PADDING_BUDGET: usize = 16;

/// One item of every example as one [`BatchItem`].
fn gather(values: Vec<Item>) -> std::result::Result<BatchItem, String> {
    if values.iter().all(|value| matches!(value, Item::Bytes(_))) {
        let strings = values.into_iter().filter_map(|value| if let Item::Bytes(s) = value { Some(s) } else { None });
        return Ok(BatchItem::Bytes(strings.collect()));
    }
    let tensors = values
        .into_iter()
        .map(|value| match value {
            Item::Tensor(tensor) => Ok(tensor),
            Item::Image(image) => image.to_tensor().map_err(|error| error.to_string()),
            Item::Bytes(_) => Err("holds strings in some examples and numbers in others".to_string()),
        })
        .collect::<std::result::Result<Vec<Tensor>, String>>()?;
    pad_and_stack(&tensors)
}

/// `tensors` stacked into `[B, …]`, each padded with zeros to the largest size of every dimension.
fn pad_and_stack(tensors: &[Tensor]) -> std::result::Result<BatchItem, String> {
    let Some(first) = tensors.first() else {
        return Err("no example holds it".to_string());
    };
    let (rank, kind) = (first.dim(), first.kind());
    if let Some(other) = tensors.iter().find(|t| t.dim() != rank || t.kind() != kind) {
        return Err(format!(
            "examples differ in rank or type ({:?} {:?} and {:?} {:?})",
            first.size(),
            kind,
            other.size(),
            other.kind()
        ));
    }
    let sizes: Vec<Vec<i64>> = tensors.iter().map(Tensor::size).collect();
    let largest: Vec<i64> = (0..rank).map(|d| sizes.iter().map(|size| size[d]).max().unwrap_or(0)).collect();
    let shape: Vec<i64> = [tensors.len() as i64].into_iter().chain(largest).collect();
    // Examples that are each long in another dimension (a record's word) must not pad into a huge batch.
    let biggest = tensors.iter().map(Tensor::numel).max().unwrap_or(0);
    let budget = PADDING_BUDGET.saturating_mul(tensors.len()).saturating_mul(biggest.max(1));
    let padded = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?));
    if padded.is_none_or(|padded| padded > budget) {
        return Err(format!(
            "examples of shapes {sizes:?} pad to {shape:?}, more than {PADDING_BUDGET} times the batch's largest \
             example for each example"
        ));
    }
    let values = Tensor::zeros(shape.as_slice(), (kind, tch::Device::Cpu));
    for (b, (tensor, size)) in tensors.iter().zip(&sizes).enumerate() {
        let mut slot = values.get(b as i64);
        for (d, &length) in size.iter().enumerate() {
            slot = slot.narrow(d as i64, 0, length);
        }
        slot.copy_(tensor);
    }
    let flat: Vec<i64> = sizes.concat();
    let sizes = Tensor::from_slice(&flat).view([tensors.len() as i64, rank as i64]).to_kind(Kind::Int64);
    Ok(BatchItem::Tensor { values, sizes })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxes(count: i64, value: f32) -> Vec<(String, Item)> {
        let tensor = Tensor::full([count, 4], f64::from(value), (Kind::Float, tch::Device::Cpu));
        vec![("object/bbox".to_string(), Item::Tensor(tensor)), ("name".to_string(), Item::Bytes(vec![b"x".to_vec()]))]
    }

    #[test]
    fn tensors_are_padded_to_the_largest_and_their_sizes_kept() -> Result<()> {
        let items = collate(vec![boxes(2, 1.0), boxes(0, 2.0), boxes(3, 3.0)], "set", 0)?;
        let Some(BatchItem::Tensor { values, sizes }) = items.get("object/bbox") else { panic!("{items:?}") };
        assert_eq!(values.size(), [3, 3, 4]);
        assert_eq!(Vec::<i64>::try_from(sizes.flatten(0, -1)).ok(), Some(vec![2, 4, 0, 4, 3, 4]));
        let per_example: Vec<f64> = Vec::try_from(values.sum_dim_intlist(&[1i64, 2][..], false, Kind::Double)).unwrap();
        assert_eq!(per_example, [8.0, 0.0, 36.0], "2 boxes of 1s, none, 3 boxes of 3s; zeros elsewhere");
        let Some(BatchItem::Bytes(names)) = items.get("name") else { panic!("{items:?}") };
        assert_eq!(names.len(), 3);
        Ok(())
    }

    #[test]
    fn items_that_cannot_be_batched_are_errors_naming_the_batch_and_item() {
        let scalar = vec![("object/bbox".to_string(), Item::Tensor(Tensor::from(1.0f32)))];
        let message = collate(vec![boxes(1, 1.0), scalar], "set", 7).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            message.contains("batch 7") && message.contains("\"object/bbox\"") && message.contains("rank"),
            "{message}"
        );
        let long = |rows: i64, columns: i64| {
            vec![("mask".to_string(), Item::Tensor(Tensor::zeros([rows, columns], (Kind::Uint8, tch::Device::Cpu))))]
        };
        let message = collate(vec![long(5000, 1), long(1, 5000)], "set", 8).err().map(|e| e.to_string());
        assert!(message.unwrap_or_default().contains("pad to [2, 5000, 5000]"), "a 25-million-byte batch of 10 kB");
        assert!(collate(vec![long(40, 30), long(30, 40)], "set", 9).is_ok(), "a little padding is fine");
    }
}
