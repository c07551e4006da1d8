// The gradient reducer of data-parallel training (Horovod's tensor fusion, PyTorch DDP's buckets): the
// variables' gradients are copied, as autograd produces them, into a few flat buckets of one dtype each; a bucket
// whose every gradient has arrived is handed to the communication thread, which sums it over the ranks while
// the backward pass goes on, and the step's end waits for the rest. Each gradient is divided by the number of
// ranks as it is copied in (one pass over the memory, not two), so the sums are the averages.
//
// Buckets are filled in reverse variable order (the backward pass meets the last layers first) and started
// strictly in bucket order, so every rank issues the same collectives in the same order even where its gradients
// arrive in another. A variable the loss does not reach on a rank gives zeros there. The gradients handed back are
// views of the buckets, laid out like their variables, valid until the next step.
//
// C interface: each function returns nullptr on success or an error message the caller frees with
// slim_free_error.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "error_message.h"
#include "mpi_world.h"

namespace {

/// One flat buffer of gradients of one dtype, summed over the ranks by one call.
struct Bucket {
    at::Tensor buffer;
    int64_t pending = 0;
    int64_t members = 0;
    std::shared_ptr<slim::mpi::Ticket> sum;
};

/// Where one variable's gradient lives.
struct Slot {
    size_t bucket = 0;
    at::Tensor view;
    bool filled = false;
};

class Reducer {
  public:
    Reducer(std::vector<at::Tensor> variables, int64_t bucket_bytes, double timeout)
        : variables_(std::move(variables)), share_(1.0 / slim::mpi::world().size), timeout_(timeout) {
        plan(bucket_bytes);
    }

    /// Registers the hooks that hand each gradient to the reducer; `self` is this reducer, held weakly by them.
    void attach(const std::shared_ptr<Reducer>& self) {
        std::weak_ptr<Reducer> weak = self;
        for (size_t index = 0; index < variables_.size(); ++index) {
            hooks_.push_back(variables_[index].register_hook([weak, index](const at::Tensor& gradient) {
                if (auto reducer = weak.lock()) reducer->arrived(index, gradient);
            }));
        }
    }

    void detach() {
        for (size_t index = 0; index < hooks_.size(); ++index) variables_[index].remove_hook(hooks_[index]);
        hooks_.clear();
    }

    void begin() {
        slim::mpi::check_not_broken();
        TORCH_CHECK(!armed_, "the gradient reducer's previous step did not finish");
        for (auto& slot : slots_) slot.filled = false;
        for (auto& bucket : buckets_) {
            bucket.pending = bucket.members;
            bucket.sum.reset();
        }
        next_to_start_ = 0;
        armed_ = true;
    }

    /// Waits for every bucket, divides by the world's size and writes the averaged gradients, in variable order.
    void finish(at::Tensor** gradients) {
        TORCH_CHECK(armed_, "the gradient reducer has no step in progress (begin was not called)");
        started_during_backward_ = static_cast<int64_t>(next_to_start_);
        for (auto& slot : slots_) {
            if (!slot.filled) fill(slot, at::Tensor());
        }
        start_ready();
        for (auto& bucket : buckets_) bucket.sum->wait(timeout_, "the all-reduce of a gradient bucket");
        armed_ = false;
        for (size_t index = 0; index < slots_.size(); ++index) gradients[index] = new at::Tensor(slots_[index].view);
    }

    /// Averages gradients computed beforehand (one per variable, undefined for none) without the hooks: the
    /// buckets filled at once, then summed.
    void reduce(const at::Tensor* const* gradients, at::Tensor** averaged) {
        begin();
        for (size_t index = 0; index < slots_.size(); ++index) {
            fill(slots_[index], gradients[index] != nullptr ? *gradients[index] : at::Tensor());
        }
        start_ready();
        finish(averaged);
    }

    size_t bucket_count() const { return buckets_.size(); }

    /// How many buckets of the last finished step started their all-reduce before the backward pass ended.
    int64_t started_during_backward() const { return started_during_backward_; }

  private:
    /// Assigns the variables, last first, to buckets of at most `bucket_bytes` per dtype (a larger variable gets
    /// a bucket of its own), and makes each variable's view.
    void plan(int64_t bucket_bytes) {
        slots_.resize(variables_.size());
        std::vector<std::vector<size_t>> groups;
        std::vector<int64_t> group_bytes;
        std::vector<at::ScalarType> group_types;
        std::vector<int64_t> open(static_cast<size_t>(at::ScalarType::NumOptions), -1);
        for (size_t back = variables_.size(); back-- > 0;) {
            const auto& variable = variables_[back];
            slim::mpi::check_host_tensor(variable, "the gradient reducer");
            slim::mpi::datatype_of(variable, true);
            const auto type = variable.scalar_type();
            const auto bytes = variable.numel() * static_cast<int64_t>(variable.element_size());
            auto& current = open[static_cast<size_t>(type)];
            if (current < 0 || group_bytes[current] + bytes > bucket_bytes) {
                current = static_cast<int64_t>(groups.size());
                groups.emplace_back();
                group_bytes.push_back(0);
                group_types.push_back(type);
            }
            groups[current].push_back(back);
            group_bytes[current] += bytes;
        }
        for (size_t number = 0; number < groups.size(); ++number) {
            Bucket bucket;
            const auto elements = group_bytes[number] / static_cast<int64_t>(at::elementSize(group_types[number]));
            bucket.buffer = at::empty({elements}, at::TensorOptions().dtype(group_types[number]));
            bucket.members = static_cast<int64_t>(groups[number].size());
            int64_t offset = 0;
            for (auto index : groups[number]) {
                slots_[index] = Slot{number, view_of(bucket.buffer, offset, variables_[index]), false};
                offset += variables_[index].numel();
            }
            buckets_.push_back(std::move(bucket));
        }
    }

    /// The part of `buffer` from `offset` shaped (and strided, when dense) like `variable`.
    static at::Tensor view_of(const at::Tensor& buffer, int64_t offset, const at::Tensor& variable) {
        auto part = buffer.narrow(0, offset, variable.numel());
        if (variable.is_non_overlapping_and_dense()) return part.as_strided(variable.sizes(), variable.strides());
        return part.view(variable.sizes());
    }

    void arrived(size_t index, const at::Tensor& gradient) {
        if (!armed_) return;  // a backward pass outside a training step: left alone
        auto& slot = slots_[index];
        if (slot.filled) {
            slot.view.add_(gradient, share_);  // a second backward pass in one step accumulates
            return;
        }
        fill(slot, gradient);
        start_ready();
    }

    /// Copies `gradient` divided by the number of ranks (zeros when undefined) into its slot and counts it in.
    void fill(Slot& slot, const at::Tensor& gradient) {
        c10::NoGradGuard no_grad;
        if (gradient.defined() && share_ == 1.0) {
            slot.view.copy_(gradient);
        } else if (gradient.defined()) {
            at::mul_out(slot.view, gradient, at::scalar_tensor(share_, gradient.options()));
        } else {
            slot.view.zero_();
        }
        slot.filled = true;
        buckets_[slot.bucket].pending -= 1;
    }

    /// Hands the communication thread, in bucket order, every bucket whose gradients have all arrived.
    void start_ready() {
        while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].pending == 0) {
            auto& bucket = buckets_[next_to_start_];
            bucket.sum = slim::mpi::submit([buffer = bucket.buffer] { slim::mpi::all_reduce_in_place(buffer); });
            ++next_to_start_;
        }
    }

    std::vector<at::Tensor> variables_;
    /// Each rank's share of the average: 1 / ranks.
    double share_;
    std::vector<unsigned> hooks_;
    std::vector<Slot> slots_;
    std::vector<Bucket> buckets_;
    size_t next_to_start_ = 0;
    bool armed_ = false;
    int64_t started_during_backward_ = 0;
    double timeout_;
};

/// The handle the Rust side holds: the reducer, which the hooks reach only weakly.
struct Handle {
    std::shared_ptr<Reducer> reducer;
};

}  // namespace

extern "C" {

/// A reducer of the gradients of `count` variables, in buckets of about `bucket_bytes`; writes its handle and
/// the number of buckets.
char* slim_mpi_reducer_new(const at::Tensor* const* variables, int64_t count, int64_t bucket_bytes, double timeout,
                           void** handle, int64_t* buckets) {
    return slim::mpi::guarded("slim_mpi_reducer_new", [&] {
        slim::mpi::world();
        TORCH_CHECK(bucket_bytes > 0, "the bucket size must be positive, got ", bucket_bytes);
        std::vector<at::Tensor> list;
        for (int64_t i = 0; i < count; ++i) list.push_back(*variables[i]);
        auto reducer = std::make_shared<Reducer>(std::move(list), bucket_bytes, timeout);
        reducer->attach(reducer);
        *buckets = static_cast<int64_t>(reducer->bucket_count());
        *handle = new Handle{std::move(reducer)};
    });
}

/// Arms the reducer for one step's backward pass.
char* slim_mpi_reducer_begin(void* handle) {
    return slim::mpi::guarded("slim_mpi_reducer_begin", [&] { static_cast<Handle*>(handle)->reducer->begin(); });
}

/// Finishes the step: writes one averaged gradient per variable (fresh handles) into `gradients`.
char* slim_mpi_reducer_finish(void* handle, at::Tensor** gradients) {
    return slim::mpi::guarded("slim_mpi_reducer_finish",
                              [&] { static_cast<Handle*>(handle)->reducer->finish(gradients); });
}

/// Averages `gradients` (one per variable, null for none) over the ranks into `averaged` (fresh handles).
char* slim_mpi_reducer_reduce(void* handle, const at::Tensor* const* gradients, at::Tensor** averaged) {
    return slim::mpi::guarded("slim_mpi_reducer_reduce",
                              [&] { static_cast<Handle*>(handle)->reducer->reduce(gradients, averaged); });
}

/// The number of buckets of the last finished step whose all-reduce started during the backward pass.
int64_t slim_mpi_reducer_overlapped(void* handle) {
    return static_cast<Handle*>(handle)->reducer->started_during_backward();
}

/// Removes the hooks and frees the reducer.
void slim_mpi_reducer_free(void* handle) {
    auto* owned = static_cast<Handle*>(handle);
    owned->reducer->detach();
    delete owned;
}

}  // extern "C"
