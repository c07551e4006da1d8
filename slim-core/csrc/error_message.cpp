// Error messages that cross slim's C interface.

#include "error_message.h"

#include <cstring>

namespace slim {

char* copy_message(const char* message) {
    const std::size_t length = std::strlen(message);
    char* copy = new char[length + 1];
    std::memcpy(copy, message, length + 1);
    return copy;
}

}  // namespace slim

extern "C" {

/// Frees a message returned by one of slim's C functions.
void slim_free_error(char* message) { delete[] message; }

}
