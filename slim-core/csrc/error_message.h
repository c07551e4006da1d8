// Error messages that cross slim's C interface: heap copies the Rust side frees with slim_free_error.

#pragma once

namespace slim {

/// A heap copy of `message`, for the caller to free with slim_free_error.
char* copy_message(const char* message);

}  // namespace slim
