#include "common/secret_buffer.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <utility>

namespace tazpod {

SecretBuffer::SecretBuffer(size_t capacity) {
  long page = sysconf(_SC_PAGESIZE);
  size_t page_size = page > 0 ? static_cast<size_t>(page) : 4096;
  size_t mapped = ((capacity == 0 ? 1 : capacity) + page_size - 1) / page_size * page_size;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    error_ = errno;
    return;
  }
  data_ = static_cast<char*>(p);
  mapped_ = mapped;
  capacity_ = capacity;
  locked_ = mlock(p, mapped) == 0;
  if (!locked_) error_ = errno;
  madvise(p, mapped, MADV_DONTDUMP);
  madvise(p, mapped, MADV_DONTFORK);
}

SecretBuffer SecretBuffer::None() { return SecretBuffer(NoPages{}); }

SecretBuffer::~SecretBuffer() { Release(); }

SecretBuffer::SecretBuffer(SecretBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)),
      mapped_(std::exchange(other.mapped_, 0)),
      locked_(std::exchange(other.locked_, false)),
      error_(std::exchange(other.error_, 0)) {}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
    locked_ = std::exchange(other.locked_, false);
    error_ = std::exchange(other.error_, 0);
  }
  return *this;
}

void SecretBuffer::Release() {
  if (!data_) return;
  explicit_bzero(data_, mapped_);
  if (locked_) munlock(data_, mapped_);
  munmap(data_, mapped_);
  data_ = nullptr;
  size_ = capacity_ = mapped_ = 0;
  locked_ = false;
}

bool SecretBuffer::Append(const char* bytes, size_t n) {
  if (!data_ || n > capacity_ - size_) return false;
  memcpy(data_ + size_, bytes, n);
  size_ += n;
  return true;
}

char* SecretBuffer::Extend(size_t n) {
  if (!data_ || n > capacity_ - size_) return nullptr;
  char* start = data_ + size_;
  size_ += n;
  return start;
}

void SecretBuffer::PopBack() {
  if (size_ > 0) Truncate(size_ - 1);
}

void SecretBuffer::Truncate(size_t n) {
  if (n >= size_) return;
  explicit_bzero(data_ + n, size_ - n);
  size_ = n;
}

bool SecretBuffer::Equals(const SecretBuffer& other) const {
  // The length is not secret (the caller already knows both sizes); the
  // contents are compared without an early exit.
  if (size_ != other.size_) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < size_; ++i)
    diff |= static_cast<unsigned char>(data_[i] ^ other.data_[i]);
  return diff == 0;
}

namespace {

// How many bytes the UTF-8 sequence `lead` begins has: 2 to 4, or 1 when
// it begins none (ASCII, a continuation byte, a byte UTF-8 never uses).
size_t SequenceLength(unsigned char lead) {
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 1;
}

// The bytes of the character at text[at]: a whole sequence, or one byte.
size_t CharacterAt(std::string_view text, size_t at) {
  const size_t n = SequenceLength(static_cast<unsigned char>(text[at]));
  if (at + n > text.size()) return 1;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(text[at + i]) & 0xC0) != 0x80) return 1;
  }
  return n;
}

}  // namespace

size_t Utf8Characters(std::string_view text) {
  size_t count = 0;
  for (size_t at = 0; at < text.size(); at += CharacterAt(text, at)) ++count;
  return count;
}

size_t LastCharacterBytes(std::string_view text) {
  // Read from the start: only there is it known where a character begins.
  size_t last = 0;
  for (size_t at = 0; at < text.size(); at += CharacterAt(text, at)) last = at;
  return text.size() - last;
}

}  // namespace tazpod
