// Helpers for the credential, config-file, metadata and endpoint tests: an isolated AWS
// environment (temp HOME and files, every AWS_* variable the chain reads unset, restored after),
// a scripted transport, and a spdlog capture at trace level.
#pragma once

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "aws/http.h"

namespace containctl::testing {

// Sets and unsets environment variables; restores every touched one on destruction.
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        ::unsetenv(it->first.c_str());
    }
  }
  void set(const std::string& name, const std::string& value) {
    save(name);
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  void unset(const std::string& name) {
    save(name);
    ::unsetenv(name.c_str());
  }

 private:
  void save(const std::string& name) {
    const char* v = std::getenv(name.c_str());
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

inline void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  ::chmod(path.c_str(), mode);
}

// A temp directory with config and credentials paths, and an environment where the chain sees
// only what the test writes: no keys, no profile, no container variables, IMDS disabled.
class AwsSandbox {
 public:
  AwsSandbox() {
    char tmpl[] = "/tmp/containctl-creds-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    for (const char* v : {"AWS_ACCESS_KEY_ID",
                          "AWS_SECRET_ACCESS_KEY",
                          "AWS_SESSION_TOKEN",
                          "AWS_SECURITY_TOKEN",
                          "AWS_PROFILE",
                          "AWS_DEFAULT_PROFILE",
                          "AWS_REGION",
                          "AWS_DEFAULT_REGION",
                          "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
                          "AWS_EC2_METADATA_V1_DISABLED",
                          "AWS_ENDPOINT_URL",
                          "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                          "AWS_ENDPOINT_URL_EC2",
                          "AWS_ENDPOINT_URL_IAM",
                          "AWS_ENDPOINT_URL_STS",
                          "AWS_ENDPOINT_URL_S3",
                          "AWS_ENDPOINT_URL_AUTO_SCALING",
                          "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
                          "AWS_ENDPOINT_URL_S3_CONTROL",
                          "AWS_ENDPOINT_URL_CLOUDFORMATION",
                          "AWS_ENDPOINT_URL_ORGANIZATIONS",
                          "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                          "AWS_ENDPOINT_URL_SSO_ADMIN",
                          "AWS_ENDPOINT_URL_IDENTITYSTORE",
                          "AWS_ENDPOINT_URL_SUPPORT",
                          "AWS_ENDPOINT_URL_DYNAMODB",
                          "AWS_ENDPOINT_URL_SSM",
                          "MOTO_ACCOUNT_ID"})
      env.unset(v);
    env.set("HOME", dir_);
    env.set("AWS_CONFIG_FILE", config_path());
    env.set("AWS_SHARED_CREDENTIALS_FILE", credentials_path());
    env.set("AWS_EC2_METADATA_DISABLED", "true");
  }
  ~AwsSandbox() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  std::string config_path() const { return dir_ + "/config"; }
  std::string credentials_path() const { return dir_ + "/credentials"; }
  void config(const std::string& text) { write_file(config_path(), text); }
  void credentials(const std::string& text) { write_file(credentials_path(), text); }
  // An executable script in the sandbox; returns its path.
  std::string script(const std::string& name, const std::string& body) {
    std::string path = dir_ + "/" + name;
    write_file(path, "#!/bin/sh\n" + body, 0700);
    return path;
  }

  ScopedEnv env;

 private:
  std::string dir_;
};

// Answers from a handler and records every request.
class ScriptedTransport final : public aws::HttpTransport {
 public:
  using Handler = std::function<Result<aws::HttpResponse>(const aws::HttpRequest&)>;
  explicit ScriptedTransport(Handler handler) : handler_(std::move(handler)) {}
  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override {
    std::lock_guard lock(mu_);
    requests.push_back(request);
    return handler_(request);
  }
  std::vector<aws::HttpRequest> requests;

 private:
  std::mutex mu_;
  Handler handler_;
};

inline aws::HttpResponse http(int status, std::string body) {
  aws::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

// Routes spdlog's default logger to a string at trace level for the lifetime of the object.
class LogCapture {
 public:
  LogCapture() {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace containctl::testing
