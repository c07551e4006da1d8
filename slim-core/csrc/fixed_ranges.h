// Reductions whose result does not depend on thread scheduling: a run of items is split into fixed ranges, one
// per thread (fixed by the thread count), and each range is summed block by block — within a block in the
// caller's accumulator type, across blocks and ranges in double.

#pragma once

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace slim {

/// The `width` per-lane totals of `block(first, count, partial)` over `items` items in blocks of `block_items`:
/// `block` adds a block's sums into `partial` (`width` values of `Partial`, zeroed for each block), which go into
/// double totals. A range gets at least `min_per_range` items, so small runs stay on one thread.
template <typename Partial, typename Block>
std::vector<double> reduce_in_fixed_ranges(int64_t items, int64_t block_items, int64_t min_per_range, int64_t width,
                                           const Block& block) {
    const int64_t ranges =
        std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), items / std::max<int64_t>(1, min_per_range)));
    std::vector<double> partials(ranges * width, 0.0);
    at::parallel_for(0, ranges, 1, [&](int64_t first_range, int64_t last_range) {
        std::vector<Partial> in_block(width);
        for (int64_t range = first_range; range < last_range; ++range) {
            double* total = partials.data() + range * width;
            const int64_t begin = items * range / ranges, end = items * (range + 1) / ranges;
            for (int64_t first = begin; first < end; first += block_items) {
                std::fill(in_block.begin(), in_block.end(), Partial(0));
                block(first, std::min(block_items, end - first), in_block.data());
                for (int64_t i = 0; i < width; ++i) total[i] += in_block[i];
            }
        }
    });
    std::vector<double> totals(width, 0.0);
    for (int64_t range = 0; range < ranges; ++range)
        for (int64_t i = 0; i < width; ++i) totals[i] += partials[range * width + i];
    return totals;
}

}  // namespace slim
