#pragma once
// LibTorch's intra-op thread count is process-wide. Code that times or checks a
// model at other counts changes it for a scope and must give the caller's count
// back on every way out, a model's exception included.

namespace mlopt {

class ThreadCountScope {
 public:
  ThreadCountScope();                      // restores the count it found, whatever the scope set
  explicit ThreadCountScope(int threads);  // and sets `threads` for the scope (no change when already so)
  ~ThreadCountScope();
  ThreadCountScope(const ThreadCountScope&) = delete;
  ThreadCountScope& operator=(const ThreadCountScope&) = delete;

 private:
  int before_;
};

}  // namespace mlopt
