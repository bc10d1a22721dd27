// string.h — gomap::String, laid out as Go's string header {str, len}.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace gomap {

// Go's string: a pointer to immutable bytes and a length. Field names match Go's
// runtime DWARF (str, len) so the plugins decode both the same way. Bytes made
// by String::make live in an immortal arena, as if the GC kept them alive.
struct String {
  const std::uint8_t* str;
  std::int64_t len;

  static String make(std::string_view s);  // copies the bytes into the arena
  std::string_view view() const {
    return {reinterpret_cast<const char*>(str), static_cast<std::size_t>(len)};
  }
  friend bool operator==(const String& a, const String& b) {
    return a.len == b.len && (a.str == b.str || std::memcmp(a.str, b.str, a.len) == 0);
  }
};
static_assert(sizeof(String) == 16);

}  // namespace gomap
