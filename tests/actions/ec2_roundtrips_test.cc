// Critical path of containing one instance (one interface, in an Auto Scaling group), counted in
// sequential AWS round trips. The transport wrapper adds one to a logical clock per call; the
// family's parallel() starts concurrent calls at the same value and continues from their maximum;
// the steps run as the executor schedules them (a step starts when its depends_on have finished).
// The count is therefore exact and independent of thread timing. Cosmetic steps (the instance
// tag) start, as in the executor, only once every other step verified.
#include "tests/actions/ec2_fixture.h"

namespace containctl::actions::ec2test {
namespace {

TEST(Ec2RoundTrips, ContainingAnAutoScalingInstanceTakesAtMostTenSequentialRoundTrips) {
  testing::MotoServer& moto = testing::MotoServer::shared();
  moto.reset();
  std::shared_ptr<ProbeTransport> probe;
  auto client = probed_client(moto, probe);
  World world;
  world.init(*client);
  const std::string id = world.asg("rt-asg", 1, 1, 2, world.group("web"));
  auto family = make_ec2_isolate();
  Target target = world.target(id);
  Identity caller{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options;
  aws::ManualClock clock{std::chrono::system_clock::now()};
  Context ctx{*client, target, "us-east-1", "run-rt-1", caller, options, {}, clock};
  auto d = family->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family->plan(ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ((*d)["network_interfaces"].size(), 1u);
  ASSERT_TRUE(has_step(*plan, "asg-standby"));
  ASSERT_TRUE(has_step(*plan, "isolate-network"));

  std::map<std::string, int> finished;  // step id -> logical time when its verify returned
  int critical = 0;
  std::string report;
  std::vector<const Step*> order;  // cosmetic steps last, as the executor runs them
  for (const Step& step : plan->steps)
    if (!step.cosmetic) order.push_back(&step);
  for (const Step& step : plan->steps)
    if (step.cosmetic) order.push_back(&step);
  int security_done = 0;
  for (const Step* sp : order) {
    const Step& step = *sp;
    int start = step.cosmetic ? security_done : 0;
    for (const auto& dep : step.depends_on) start = std::max(start, finished.at(dep));
    ec2::round_trip_depth() = start;
    auto before = family->capture(ctx, step);
    ASSERT_TRUE(before.ok()) << step.id << ": " << before.error().describe();
    auto applied = family->apply(ctx, step, *before);
    ASSERT_TRUE(applied.ok()) << step.id << ": " << applied.error().describe();
    Status v = family->verify(ctx, step);
    ASSERT_TRUE(v.ok()) << step.id << ": " << v.error().describe();
    finished[step.id] = ec2::round_trip_depth();
    critical = std::max(critical, finished[step.id]);
    if (!step.cosmetic) security_done = std::max(security_done, finished[step.id]);
    report += step.id + "=" + std::to_string(finished[step.id] - start) + " ";
  }
  std::cout << "ec2-isolate critical path: " << critical << " round trips (" << report << ")\n";
  // Containment itself: 7 (the network step). The "isolated" tag then takes 3 (read, CreateTags,
  // read back), written only once isolation verified.
  EXPECT_EQ(security_done, 7);
  EXPECT_LE(critical, 10);
  EXPECT_EQ(finished.at("tag-instance"), 10);
  // The network step is the longest: capture, create groups, set their rules, two moves, delete
  // the temporary group, verify. A broken probe would report 0.
  EXPECT_EQ(finished.at("isolate-network"), 7);
  // capture, re-read (resume safety), lower MinSize, EnterStandby, verify
  EXPECT_EQ(finished.at("asg-standby"), 5);
  EXPECT_GT(probe->calls().size(), static_cast<size_t>(critical));  // parallel calls happened
}

}  // namespace
}  // namespace containctl::actions::ec2test
