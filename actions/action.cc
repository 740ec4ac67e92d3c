#include "actions/action.h"

namespace containctl::actions {

void wait_without_calls(Context& ctx, std::chrono::milliseconds d) {
  if (ctx.idle_wait)
    ctx.idle_wait(d);
  else
    ctx.clock.sleep_for(d);
}

Status open_window(Context& ctx, const Step& step, const json& what) {
  if (!ctx.exposure) return Ok{};
  return ctx.exposure(step, what);
}

void close_window(Context& ctx, const Step& step) {
  if (!ctx.exposure) return;
  (void)ctx.exposure(step, json());  // a failed clear only makes status warn about a closed window
}

bool Options::flag(const std::string& key, bool fallback) const {
  auto it = values.find(key);
  if (it == values.end()) return fallback;
  return it->second == "true" || it->second == "1" || it->second == "yes";
}

std::string Options::get(const std::string& key, const std::string& fallback) const {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

}  // namespace containctl::actions
