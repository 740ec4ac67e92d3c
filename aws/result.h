// Result<T>: a value or an Error. Expected failures (AWS errors, bad input, I/O) travel as
// Results; exceptions are reserved for bugs.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "aws/error.h"

namespace containctl {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}             // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const Error& error() const { return std::get<1>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Ok) {}                                             // NOLINT
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace containctl

// Propagate an error from an expression returning Result/Status.
#define CC_TRY(expr)                            \
  do {                                          \
    auto&& cc_try_r_ = (expr);                  \
    if (!cc_try_r_.ok()) return cc_try_r_.error(); \
  } while (0)

#define CC_CONCAT_INNER(a, b) a##b
#define CC_CONCAT(a, b) CC_CONCAT_INNER(a, b)
// Assign the value of a Result to `lhs`, or return its error.
#define CC_ASSIGN(lhs, expr) CC_ASSIGN_IMPL(CC_CONCAT(cc_assign_r_, __LINE__), lhs, expr)
#define CC_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                   \
  if (!tmp.ok()) return tmp.error();   \
  lhs = std::move(tmp).value()
