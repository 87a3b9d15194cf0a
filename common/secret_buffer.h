// SecretBuffer: memory for a passphrase or key that never reaches swap, a
// core file or a later allocation.
//
// The pages are mmap'ed privately (never shared with the allocator's heap),
// mlock'ed (not swapped), excluded from core dumps (MADV_DONTDUMP) and from
// children (MADV_DONTFORK), and wiped with explicit_bzero before they are
// unmapped. Holds at most `capacity` bytes. Move-only; not thread-safe.
//
// Never copy its contents into a std::string or any other heap object.
#pragma once

#include <cstddef>
#include <string_view>

namespace tazpod {

class SecretBuffer {
 public:
  // Allocates `capacity` bytes (rounded up to whole pages). valid() is false
  // when mmap failed; locked() is false when mlock failed (RLIMIT_MEMLOCK):
  // the buffer still works, and the caller decides whether that is fatal.
  explicit SecretBuffer(size_t capacity = 4096);
  // No memory at all: valid() false, size() and capacity() 0, and nothing
  // fits. For where a secret may arrive later, which must not hold a locked
  // page until it does (every connection to PID 1's control socket).
  static SecretBuffer None();
  ~SecretBuffer();
  SecretBuffer(SecretBuffer&& other) noexcept;
  SecretBuffer& operator=(SecretBuffer&& other) noexcept;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;

  bool valid() const { return data_ != nullptr; }
  bool locked() const { return locked_; }
  // The errno of the mmap, or else the mlock, that failed; 0 when neither
  // did. Kept here: by the time the caller says why, errno may be another
  // call's (the next buffer's mlock).
  int error() const { return error_; }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  // Appends bytes; returns false (and appends nothing) when they do not fit.
  bool Append(const char* bytes, size_t n);
  bool PushBack(char c) { return Append(&c, 1); }
  // Grows the contents by n bytes and returns where they start, for reading
  // straight into the buffer (read(2), a socket); nullptr when they do not fit.
  char* Extend(size_t n);
  // Removes the last byte (for backspace at a prompt); wipes it.
  void PopBack();
  // Sets the size to n (≤ size()), wiping what is cut off.
  void Truncate(size_t n);
  void Clear() { Truncate(0); }

  // Compares in time independent of where the contents differ.
  bool Equals(const SecretBuffer& other) const;

  std::string_view view() const { return {data_, size_}; }

 private:
  struct NoPages {};
  explicit SecretBuffer(NoPages) {}
  void Release();

  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t mapped_ = 0;
  bool locked_ = false;
  int error_ = 0;
};

// The number of characters in `text`, as a terminal shows them: each whole
// UTF-8 sequence is one, and so is each byte that is in none (a Latin-1
// terminal's "°"). A passphrase's least length counts these, not bytes.
size_t Utf8Characters(std::string_view text);

// How many bytes the last of those characters takes (0 for no text): what
// Backspace removes.
size_t LastCharacterBytes(std::string_view text);

}  // namespace tazpod
