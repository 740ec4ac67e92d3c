#include "orchestrator/target_pool.h"

#include <algorithm>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "aws/concurrency.h"

namespace containctl::orch {

// Each key admits its first `per_key` groups to the ready queue; a group that finishes or
// releases admits the key's next one, so picking work costs O(1) however many groups wait, and a
// key at its limit never holds up the others.
struct PoolState {
  aws::Clock& clock;
  const std::vector<std::vector<int>>& groups;
  const std::vector<std::string>& keys;
  size_t workers;
  int per_key;
  const std::function<void(const std::vector<int>&, PoolSlot&)>& work;

  std::mutex mu;
  std::deque<size_t> ready;
  std::unordered_map<std::string, std::deque<size_t>> waiting;  // per key, beyond its limit
  std::unordered_map<std::string, int> admitted;                // per key: ready or running (holding)
  std::unordered_map<std::string, int> returning;               // per key: released, waiting to reacquire
  size_t untaken = 0;                                            // ready or waiting
  size_t running = 0;                                            // picked and holding their slot
  size_t idle = 0;                                               // workers waiting for a pick
  std::vector<std::thread> extra;                                // workers started for released slots
  size_t extra_live = 0;
  Status first_error;  // the first exception a group's work threw (the pool itself goes on)

  void record(const Error& e) {
    std::lock_guard lock(mu);
    if (first_error.ok()) first_error = e;
  }

  // Admits the key's waiting groups while it has room and no released group of it wants back in.
  bool admit_locked(const std::string& key) {
    auto& queue = waiting[key];
    bool any = false;
    while (returning[key] == 0 && admitted[key] < per_key && !queue.empty()) {
      ready.push_back(queue.front());
      queue.pop_front();
      admitted[key]++;
      any = true;
    }
    return any;
  }

  void worker() {
    for (;;) {
      size_t pick = 0;
      bool got = false, last = false;
      {
        std::lock_guard lock(mu);
        idle++;
      }
      aws::wait_until(clock, mu, [&] {
        if (!ready.empty() && running < workers) {
          pick = ready.front();
          ready.pop_front();
          running++;
          got = true;
          last = --untaken == 0;
        } else if (untaken != 0) {
          return false;
        }
        idle--;
        return true;
      });
      if (last) aws::notify_waiters(clock);  // idle workers may stop
      if (!got) return;
      const std::string& key = keys[pick];
      PoolSlot slot(*this, key);
      // A group that throws ends only itself; its slot is returned as if it had finished.
      Status st = aws::catch_all("target group " + key, [&] { work(groups[pick], slot); });
      if (!st.ok()) {
        if (!slot.held()) slot.reacquire();
        record(st.error());
      }
      bool wake = false;
      {
        std::lock_guard lock(mu);
        wake = running-- == workers || returning[key] > 0;  // a picker or a returning group may go on
        admitted[key]--;
        wake = admit_locked(key) || wake;
      }
      if (wake) aws::notify_waiters(clock);
    }
  }

  void release(const std::string& key) {
    {
      std::lock_guard lock(mu);
      running--;
      admitted[key]--;
      admit_locked(key);
      // This worker now sleeps; if nobody idle can take the ready work, start a worker for it.
      if (!ready.empty() && idle == 0 && running < workers) {
        extra_live++;
        extra.push_back(aws::start_thread(clock, [this] {
          worker();
          {
            std::lock_guard lock(mu);
            extra_live--;
          }
          aws::notify_waiters(clock);
        }, [this](const Error& e) { record(e); }));
      }
    }
    aws::notify_waiters(clock);
  }

  void reacquire(const std::string& key) {
    {
      std::lock_guard lock(mu);
      returning[key]++;
    }
    aws::wait_until(clock, mu, [&] {
      if (admitted[key] >= per_key) return false;
      admitted[key]++;
      returning[key]--;
      running++;
      return true;
    });
  }
};

void PoolSlot::release() {
  held_ = false;
  pool_.release(key_);
}
void PoolSlot::reacquire() {
  pool_.reacquire(key_);
  held_ = true;
}

Status run_pool(aws::Clock& clock, const std::vector<std::vector<int>>& groups, const std::vector<std::string>& keys,
              int workers, int per_key, const std::function<void(const std::vector<int>&, PoolSlot&)>& work) {
  PoolState pool{clock, groups, keys, static_cast<size_t>(std::max(1, workers)), std::max(1, per_key), work};
  pool.untaken = groups.size();
  for (size_t i = 0; i < groups.size(); ++i) {
    if (pool.admitted[keys[i]] < pool.per_key) {
      pool.admitted[keys[i]]++;
      pool.ready.push_back(i);
    } else {
      pool.waiting[keys[i]].push_back(i);
    }
  }
  // More workers than ready groups could never all be busy; releases start more when needed.
  const size_t n = std::max<size_t>(1, std::min(pool.workers, pool.ready.size()));
  Status st = aws::fork_join(clock, std::vector<std::function<void()>>(n, [&] { pool.worker(); }));
  if (!st.ok()) pool.record(st.error());
  aws::wait_until(clock, pool.mu, [&] { return pool.extra_live == 0; });
  for (auto& t : pool.extra) t.join();  // each has left the clock already
  return pool.first_error;
}

}  // namespace containctl::orch
