#include "orchestrator/shared_resources.h"

#include <map>

#include "aws/concurrency.h"

namespace containctl::orch {

bool ResourceLocks::free_locked(const std::vector<std::string>& keys) const {
  for (const auto& k : keys)
    if (held_.count(k)) return false;
  return true;
}

bool ResourceLocks::try_lock(const std::vector<std::string>& keys) {
  std::lock_guard lock(mu_);
  if (!free_locked(keys)) return false;
  held_.insert(keys.begin(), keys.end());
  return true;
}

void ResourceLocks::lock(const std::vector<std::string>& keys) {
  aws::wait_until(clock_, mu_, [&] {
    if (!free_locked(keys)) return false;
    held_.insert(keys.begin(), keys.end());
    return true;
  });
}

ResourceLocks::Held::Held(ResourceLocks& locks, std::vector<std::string> keys,
                          const std::function<void(const std::function<void()>&)>& idle)
    : locks_(locks), keys_(std::move(keys)) {
  if (!keys_.empty() && !locks_.try_lock(keys_)) idle([this] { locks_.lock(keys_); });
}

void ResourceLocks::unlock(const std::vector<std::string>& keys) {
  if (keys.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (const auto& k : keys) held_.erase(k);
  }
  aws::notify_waiters(clock_);
}

ReverseOrder::ReverseOrder(aws::Clock& clock, const std::vector<std::vector<std::string>>& keys_per_item)
    : clock_(clock), after_(keys_per_item.size()), finished_(keys_per_item.size(), 0) {
  std::map<std::string, size_t> last;  // key -> the latest item so far that writes it
  for (size_t i = 0; i < keys_per_item.size(); ++i) {
    for (const auto& k : keys_per_item[i]) {
      auto [it, fresh] = last.emplace(k, i);
      if (!fresh) {
        after_[i].push_back(it->second);  // that one waits for the earlier ones of the key in turn
        it->second = i;
      }
    }
  }
}

bool ReverseOrder::ready_locked(size_t item) const {
  for (size_t before : after_[item])
    if (!finished_[before]) return false;
  return true;
}

bool ReverseOrder::ready(size_t item) {
  std::lock_guard lock(mu_);
  return ready_locked(item);
}

void ReverseOrder::wait(size_t item) {
  aws::wait_until(clock_, mu_, [&] { return ready_locked(item); });
}

void ReverseOrder::finished(size_t item) {
  {
    std::lock_guard lock(mu_);
    finished_[item] = 1;
  }
  aws::notify_waiters(clock_);
}

}  // namespace containctl::orch
