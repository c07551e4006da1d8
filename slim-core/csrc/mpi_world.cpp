// slim's MPI world: initialization, the communication thread, deadline waits and datatypes (see mpi_world.h).
//
// C interface: slim_mpi_init returns nullptr on success or an error message the caller frees with
// slim_free_error.

#include "mpi_world.h"

#include <c10/core/GradMode.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <deque>
#include <exception>
#include <sstream>
#include <string>
#include <thread>

#include "error_message.h"

namespace slim::mpi {
namespace {

/// The communication thread: runs submitted calls one at a time, in order.
class Channel {
  public:
    Channel() : thread_([this] { run(); }) {}

    std::shared_ptr<Ticket> submit(std::function<void()> call) {
        auto ticket = std::make_shared<Ticket>();
        {
            std::lock_guard<std::mutex> guard(mutex_);
            queue_.push_back({std::move(call), ticket});
        }
        queue_changed_.notify_one();
        return ticket;
    }

    /// Runs what is queued, then ends the thread and joins it.
    void stop() {
        {
            std::lock_guard<std::mutex> guard(mutex_);
            stopping_ = true;
        }
        queue_changed_.notify_one();
        thread_.join();
    }

  private:
    struct Job {
        std::function<void()> call;
        std::shared_ptr<Ticket> ticket;
    };

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock<std::mutex> guard(mutex_);
                queue_changed_.wait(guard, [this] { return stopping_ || !queue_.empty(); });
                if (queue_.empty()) return;
                job = std::move(queue_.front());
                queue_.pop_front();
            }
            try {
                job.call();
                job.ticket->finish({});
            } catch (const std::exception& error) {
                job.ticket->finish(error.what());
            } catch (...) {
                job.ticket->finish("unknown C++ exception in an MPI call");
            }
        }
    }

    std::mutex mutex_;
    std::condition_variable queue_changed_;
    std::deque<Job> queue_;
    bool stopping_ = false;
    std::thread thread_;
};

World the_world;
/// Created by init() and never destroyed: a joinable thread must not meet a static destructor.
Channel* channel = nullptr;
std::mutex init_mutex;
/// Set when a wait timed out: a call is still pending and the ranks disagree on what comes next.
std::atomic<bool> broken{false};

/// At exit: after a clean run, the communication thread is stopped and MPI finalized; when a call was left
/// pending, MPI_Abort ends the whole job with a non-zero status (finalizing would wait on the ranks that
/// stopped taking part).
void finish_at_exit() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (broken.load()) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return;
    }
    if (channel != nullptr) {
        channel->stop();
        MPI_Comm_free(&the_world.comm);
    }
    MPI_Finalize();
}

/// The rank's place among the ranks of its node (a shared-memory split of the world).
int local_rank_of(MPI_Comm comm, int rank) {
    MPI_Comm node = MPI_COMM_NULL;
    check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
    int local = 0;
    check(MPI_Comm_rank(node, &local), "MPI_Comm_rank");
    MPI_Comm_free(&node);
    return local;
}

/// Initializes MPI unless the program did, asking for MPI_THREAD_MULTIPLE (the communication thread calls MPI;
/// MPI_Abort may come from another); registers the exit handler when slim initialized it.
void initialize_library() {
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    int provided = 0;
    if (!initialized) {
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
        std::atexit(finish_at_exit);
    } else {
        check(MPI_Query_thread(&provided), "MPI_Query_thread");
    }
    if (provided < MPI_THREAD_SERIALIZED) {
        throw std::runtime_error("this MPI runs at thread level " + std::to_string(provided) +
                                 "; slim calls MPI from its own thread and needs MPI_THREAD_SERIALIZED (2) or more");
    }
}

}  // namespace

void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + " failed: " + std::string(text, length));
}

const World& init() {
    std::lock_guard<std::mutex> guard(init_mutex);
    if (channel != nullptr) return the_world;
    initialize_library();
    World world;
    check(MPI_Comm_dup(MPI_COMM_WORLD, &world.comm), "MPI_Comm_dup");
    // Errors come back as codes (turned into slim errors), not as the default abort of the whole job.
    check(MPI_Comm_set_errhandler(world.comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(world.comm, &world.rank), "MPI_Comm_rank");
    check(MPI_Comm_size(world.comm, &world.size), "MPI_Comm_size");
    world.local_rank = local_rank_of(world.comm, world.rank);
    the_world = world;
    channel = new Channel();
    return the_world;
}

const World& world() {
    if (channel == nullptr) throw std::runtime_error("MPI is not initialized: create the world first (Mpi::init)");
    return the_world;
}

std::shared_ptr<Ticket> submit(std::function<void()> call) {
    world();
    check_not_broken();
    return channel->submit(std::move(call));
}

void Ticket::finish(std::string error) {
    {
        std::lock_guard<std::mutex> guard(mutex_);
        done_ = true;
        error_ = std::move(error);
    }
    finished_.store(true, std::memory_order_release);
    done_changed_.notify_all();
}

void Ticket::wait(double timeout_seconds, const char* what) {
    // A short spin first: most calls end within tens of microseconds of the wait, sooner than a sleeping thread
    // is woken.
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
    while (!finished_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < spin_until) {
        std::this_thread::yield();
    }
    std::unique_lock<std::mutex> guard(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    if (!done_changed_.wait_until(guard, deadline, [this] { return done_; })) {
        broken.store(true);
        std::ostringstream message;
        message << what << " did not complete within " << timeout_seconds
                << " s: another rank died, stopped taking part, or runs a different model or number of steps";
        throw std::runtime_error(message.str());
    }
    if (!error_.empty()) throw std::runtime_error(error_);
}

void check_not_broken() {
    if (broken.load()) {
        throw std::runtime_error("an earlier collective of this rank timed out, so the ranks no longer agree on the "
                                 "next one; the run cannot go on");
    }
}

void all_reduce_in_place(const at::Tensor& dense) {
    constexpr int64_t largest = INT_MAX / 2;
    const auto type = datatype_of(dense, true);
    auto* base = static_cast<char*>(dense.data_ptr());
    const auto size = dense.element_size();
    const auto elements = dense.numel();
    for (int64_t first = 0; first == 0 || first < elements; first += largest) {
        const int count = static_cast<int>(std::min(largest, elements - first));
        check(MPI_Allreduce(MPI_IN_PLACE, base + first * size, count, type, MPI_SUM, the_world.comm),
              "MPI_Allreduce");
    }
}

char* guarded(const char* name, const std::function<void()>& body) {
    try {
        c10::NoGradGuard no_grad;
        body();
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message((std::string("unknown C++ exception in ") + name).c_str());
    }
}

MPI_Datatype datatype_of(const at::Tensor& tensor, bool summed) {
    switch (tensor.scalar_type()) {
        case at::kFloat: return MPI_FLOAT;
        case at::kDouble: return MPI_DOUBLE;
        case at::kLong: return MPI_INT64_T;
        case at::kInt: return MPI_INT32_T;
        case at::kShort: return MPI_INT16_T;
        case at::kChar: return MPI_INT8_T;
        case at::kByte: return MPI_UINT8_T;
        default: break;
    }
    if (!summed && tensor.element_size() == 1) return MPI_UINT8_T;  // bool: copied, never added
    if (!summed && tensor.element_size() == 2) return MPI_UINT16_T;  // half floats: copied as bits
    throw std::runtime_error(std::string("MPI cannot ") + (summed ? "add" : "move") + " tensors of type " +
                             std::string(c10::toString(tensor.scalar_type())));
}

void check_host_tensor(const at::Tensor& tensor, const char* what) {
    TORCH_CHECK(tensor.defined(), what, ": the tensor is undefined");
    TORCH_CHECK(tensor.device().is_cpu(), what, ": the MPI backend moves host (CPU) tensors, got one on ",
                tensor.device().str());
}

}  // namespace slim::mpi

extern "C" {

/// Initializes MPI and slim's world; writes this process's rank, the world's size and the rank on its node.
char* slim_mpi_init(int* rank, int* size, int* local_rank) {
    return slim::mpi::guarded("slim_mpi_init", [&] {
        const auto& world = slim::mpi::init();
        *rank = world.rank;
        *size = world.size;
        *local_rank = world.local_rank;
    });
}

}  // extern "C"
