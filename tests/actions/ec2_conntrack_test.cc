// The optional minimum connection-tracking timeouts. moto accepts
// ModifyNetworkInterfaceAttribute ConnectionTrackingSpecification but never reports it back, so
// this test puts a small stateful stand-in for that one attribute between the client and moto:
// it stores what was set and adds <connectionTrackingConfiguration> to DescribeNetworkInterfaces
// answers, as EC2 does. Everything else is moto.
#include "tests/actions/ec2_fixture.h"

#include <sstream>

namespace containctl::actions::ec2test {
namespace {

std::string form_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::map<std::string, std::string> form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::stringstream in(body);
  std::string pair;
  while (std::getline(in, pair, '&')) {
    auto eq = pair.find('=');
    if (eq != std::string::npos) out[form_decode(pair.substr(0, eq))] = form_decode(pair.substr(eq + 1));
  }
  return out;
}

class ConntrackStandIn final : public aws::HttpTransport {
 public:
  explicit ConntrackStandIn(std::shared_ptr<aws::HttpTransport> inner) : inner_(std::move(inner)) {}
  Result<aws::HttpResponse> send(const aws::HttpRequest& request) override {
    auto f = form(request.body);
    if (f["Action"] == "ModifyNetworkInterfaceAttribute" && f.count("ConnectionTrackingSpecification.TcpEstablishedTimeout")) {
      std::lock_guard l(mu_);
      auto& c = config_[f["NetworkInterfaceId"]];
      c["tcpEstablishedTimeout"] = f["ConnectionTrackingSpecification.TcpEstablishedTimeout"];
      c["udpStreamTimeout"] = f["ConnectionTrackingSpecification.UdpStreamTimeout"];
      c["udpTimeout"] = f["ConnectionTrackingSpecification.UdpTimeout"];
      return aws::HttpResponse{200, {}, "<ModifyNetworkInterfaceAttributeResponse><return>true</return>"
                                        "</ModifyNetworkInterfaceAttributeResponse>"};
    }
    auto r = inner_->send(request);
    if (!r.ok() || f["Action"] != "DescribeNetworkInterfaces" || r->status != 200) return r;
    pugi::xml_document doc;
    doc.load_string(r->body.c_str());
    std::lock_guard l(mu_);
    for (auto eni : items(doc.document_element(), "networkInterfaceSet")) {
      auto it = config_.find(text(eni, "networkInterfaceId"));
      if (it == config_.end()) continue;
      auto c = eni.append_child("connectionTrackingConfiguration");
      for (const auto& [k, v] : it->second) c.append_child(k.c_str()).text().set(v.c_str());
    }
    std::ostringstream out;
    doc.save(out, "", pugi::format_raw);
    r->body = out.str();
    return r;
  }
  std::map<std::string, std::string> get(const std::string& eni) {
    std::lock_guard l(mu_);
    return config_.count(eni) ? config_[eni] : std::map<std::string, std::string>{};
  }

 private:
  std::shared_ptr<aws::HttpTransport> inner_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> config_;
};

TEST(Ec2Conntrack, MinimumTimeoutsAreSetAndTheOriginalsRestored) {
  testing::MotoServer& moto = testing::MotoServer::shared();
  moto.reset();
  aws::ClientConfig cfg = moto.client()->config();
  auto stand_in = std::make_shared<ConntrackStandIn>(cfg.transport);
  cfg.transport = stand_in;
  aws::AwsClient client(cfg);
  World world;
  world.init(client);
  const std::string id = world.launch({world.group("web")});
  const std::string eni2 = world.add_interface(id, {world.group("db")}, 1);
  aws::Params f;
  ec2::add_filter(f, 1, "attachment.instance-id", {id});
  std::string eni1;
  auto enis_resp = q(client, "ec2", "DescribeNetworkInterfaces", f);
  for (auto e : items(enis_resp.root(), "networkInterfaceSet"))
    if (text(e, "networkInterfaceId") != eni2) eni1 = text(e, "networkInterfaceId");
  // eni1 has explicit settings, eni2 has none (EC2 defaults).
  q(client, "ec2", "ModifyNetworkInterfaceAttribute",
    {{"NetworkInterfaceId", eni1}, {"ConnectionTrackingSpecification.TcpEstablishedTimeout", "3600"},
     {"ConnectionTrackingSpecification.UdpStreamTimeout", "120"}, {"ConnectionTrackingSpecification.UdpTimeout", "45"}});

  auto family = make_ec2_isolate();
  Target target = world.target(id);
  Identity caller{"123456789012", "arn:aws:iam::123456789012:user/responder", "AIDA", "AKIATEST"};
  Options options;
  options.values = {{"ec2.min_conntrack_timeouts", "true"}};
  aws::ManualClock clock{std::chrono::system_clock::now()};
  Context ctx{client, target, "us-east-1", "run-ct-1", caller, options, {}, clock};
  auto d = family->discover(ctx);
  ASSERT_TRUE(d.ok()) << d.error().describe();
  auto plan = family->plan(ctx, *d);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_TRUE(has_step(*plan, "conntrack-timeouts"));
  std::vector<Applied> done;
  Status st = execute(*family, ctx, *plan, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  const std::map<std::string, std::string> minimum = {
      {"tcpEstablishedTimeout", "60"}, {"udpStreamTimeout", "60"}, {"udpTimeout", "30"}};
  EXPECT_EQ(stand_in->get(eni1), minimum);
  EXPECT_EQ(stand_in->get(eni2), minimum);

  st = roll_back(*family, ctx, done);
  ASSERT_TRUE(st.ok()) << st.error().describe();
  EXPECT_EQ(stand_in->get(eni1), (std::map<std::string, std::string>{
                                     {"tcpEstablishedTimeout", "3600"}, {"udpStreamTimeout", "120"}, {"udpTimeout", "45"}}));
  EXPECT_EQ(stand_in->get(eni2), (std::map<std::string, std::string>{
                                     {"tcpEstablishedTimeout", "432000"}, {"udpStreamTimeout", "180"}, {"udpTimeout", "30"}}));
}

}  // namespace
}  // namespace containctl::actions::ec2test
