// SigV4 signing cost with a cached signing key: the three request shapes the tool sends most.
// The first iteration derives and caches the key; every later one is a full sign_request
// (canonical request, string to sign, HMAC, Authorization) on the same request object, which
// sign_request is built to re-sign (it replaces its own headers), exactly as a retry does.
// The *_FreshCopy variants also copy the unsigned request each time, as AwsClient::send does.
// BM_RedactServiceText_ManyMarkers: masking secrets in a long error message.
#include <benchmark/benchmark.h>

#include <string>

#include "aws/sigv4.h"

namespace containctl::aws {
namespace {

const Credentials kCreds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};

TimePoint fixed_time() {
  TimePoint t;
  parse_time("20150830T123600Z", t);
  return t;
}

HttpRequest iam_get() { return {"GET", "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", {}, ""}; }

HttpRequest ec2_post() {
  return {"POST",
          "https://ec2.us-east-1.amazonaws.com/",
          {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
          "Action=ModifyNetworkInterfaceAttribute&Version=2016-11-15&NetworkInterfaceId=eni-0123456789abcdef0"
          "&SecurityGroupId.1=sg-0aaaaaaaaaaaaaaaa&SecurityGroupId.2=sg-0bbbbbbbbbbbbbbbb"};
}

HttpRequest s3_put() {
  return {"PUT", "https://evidence-bucket.s3.us-east-1.amazonaws.com/incident/2015-08-30/capture.json",
          {{"Content-Type", "application/json"}}, std::string(1024, 'x')};
}

void run(benchmark::State& state, HttpRequest req, SigningParams p, bool fresh_copy) {
  p.time = fixed_time();
  const HttpRequest unsigned_req = req;
  for (auto _ : state) {
    if (fresh_copy) req = unsigned_req;
    auto r = sign_request(req, kCreds, p);
    if (!r.ok()) {
      state.SkipWithError(r.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(r->signature.data());
  }
}

SigningParams query_params(const char* service) { return {"us-east-1", service, {}}; }

SigningParams s3_params() {
  SigningParams p{"us-east-1", "s3", {}};
  p.s3_mode = true;
  p.content_sha256_header = true;
  return p;
}

void BM_Sign_IamQueryGet(benchmark::State& s) { run(s, iam_get(), query_params("iam"), false); }
void BM_Sign_Ec2FormPost(benchmark::State& s) { run(s, ec2_post(), query_params("ec2"), false); }
void BM_Sign_S3Put1KiB(benchmark::State& s) { run(s, s3_put(), s3_params(), false); }
void BM_Sign_IamQueryGet_FreshCopy(benchmark::State& s) { run(s, iam_get(), query_params("iam"), true); }
void BM_Sign_Ec2FormPost_FreshCopy(benchmark::State& s) { run(s, ec2_post(), query_params("ec2"), true); }
void BM_Sign_S3Put1KiB_FreshCopy(benchmark::State& s) { run(s, s3_put(), s3_params(), true); }

BENCHMARK(BM_Sign_IamQueryGet);
BENCHMARK(BM_Sign_Ec2FormPost);
BENCHMARK(BM_Sign_S3Put1KiB);
BENCHMARK(BM_Sign_IamQueryGet_FreshCopy);
BENCHMARK(BM_Sign_Ec2FormPost_FreshCopy);
BENCHMARK(BM_Sign_S3Put1KiB_FreshCopy);

// Masking a service's error message full of markers (anyone can get text echoed into one): the
// time must grow with the length, not its square.
void BM_RedactServiceText_ManyMarkers(benchmark::State& state) {
  std::string text;
  for (int64_t i = 0; i < state.range(0); ++i) text += "signature=a ";
  for (auto _ : state) benchmark::DoNotOptimize(redact_service_text(text).data());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_RedactServiceText_ManyMarkers)->Arg(1000)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace containctl::aws

BENCHMARK_MAIN();
