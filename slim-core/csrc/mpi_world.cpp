// slim's MPI world: initialization, the serializing lock, deadline waits and datatypes (see mpi_world.h).
//
// C interface: slim_mpi_init returns nullptr on success or an error message the caller frees with
// slim_free_error.

#include "mpi_world.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <sstream>
#include <string>
#include <thread>

#include "error_message.h"

namespace slim::mpi {
namespace {

World the_world;
bool world_ready = false;
/// Whether slim called MPI_Init (and so finalizes it at exit).
bool initialized_here = false;
/// Set when a wait timed out: a collective is still pending and the ranks disagree on what comes next.
std::atomic<bool> broken{false};

/// At exit: MPI_Finalize after a clean run; MPI_Abort when a collective was left pending (finalizing would
/// wait on the ranks that stopped taking part), which ends the whole job with a non-zero status.
void finish_at_exit() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (broken.load()) {
        MPI_Abort(MPI_COMM_WORLD, 1);
        return;
    }
    if (world_ready) MPI_Comm_free(&the_world.comm);
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

}  // namespace

std::mutex& lock() {
    static std::mutex mutex;
    return mutex;
}

void check(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string(what) + " failed: " + std::string(text, length));
}

const World& init() {
    std::lock_guard<std::mutex> guard(lock());
    if (world_ready) return the_world;
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) {
        int provided = 0;
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
        initialized_here = true;
        std::atexit(finish_at_exit);
        if (provided < MPI_THREAD_SERIALIZED) {
            throw std::runtime_error("this MPI library offers only thread level " + std::to_string(provided) +
                                     "; slim needs MPI_THREAD_SERIALIZED (2) or more");
        }
    } else {
        int provided = 0;
        check(MPI_Query_thread(&provided), "MPI_Query_thread");
        if (provided < MPI_THREAD_SERIALIZED) {
            throw std::runtime_error("the program initialized MPI at thread level " + std::to_string(provided) +
                                     "; slim needs MPI_THREAD_SERIALIZED (2) or more (MPI_Init_thread)");
        }
    }
    World world;
    check(MPI_Comm_dup(MPI_COMM_WORLD, &world.comm), "MPI_Comm_dup");
    // Errors come back as codes (turned into slim errors), not as the default abort of the whole job.
    check(MPI_Comm_set_errhandler(world.comm, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(world.comm, &world.rank), "MPI_Comm_rank");
    check(MPI_Comm_size(world.comm, &world.size), "MPI_Comm_size");
    world.local_rank = local_rank_of(world.comm, world.rank);
    the_world = world;
    world_ready = true;
    return the_world;
}

const World& world() {
    if (!world_ready) throw std::runtime_error("MPI is not initialized: create the world first (Mpi::init)");
    return the_world;
}

void check_not_broken() {
    if (broken.load()) {
        throw std::runtime_error("an earlier collective of this rank timed out, so the ranks no longer agree on the "
                                 "next one; the run cannot go on");
    }
}

bool test(MPI_Request* request) {
    std::lock_guard<std::mutex> guard(lock());
    int done = 0;
    check(MPI_Test(request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    return done != 0;
}

void wait(MPI_Request* request, double timeout_seconds, const char* what) {
    using clock = std::chrono::steady_clock;
    const auto started = clock::now();
    const auto deadline = started + std::chrono::duration<double>(timeout_seconds);
    // Poll: yield at first (a partner a few microseconds late), then sleep in short naps so that a rank waiting
    // for a slower one leaves the cores to the ranks still computing.
    for (int polls = 0;; ++polls) {
        if (test(request)) return;
        if (clock::now() >= deadline) break;
        if (polls < 200) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(std::chrono::microseconds(polls < 2000 ? 20 : 200));
        }
    }
    broken.store(true);
    std::ostringstream message;
    message << what << " did not complete within " << timeout_seconds
            << " s: another rank died, stopped taking part, or runs a different model or number of steps";
    throw std::runtime_error(message.str());
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
    try {
        const auto& world = slim::mpi::init();
        *rank = world.rank;
        *size = world.size;
        *local_rank = world.local_rank;
        return nullptr;
    } catch (const std::exception& error) {
        return slim::copy_message(error.what());
    } catch (...) {
        return slim::copy_message("unknown C++ exception in slim_mpi_init");
    }
}

}  // extern "C"
