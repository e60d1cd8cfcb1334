// One candidate-list policy (issue 13): the department sets the list length and the score
// threshold once (PUT /api/v1/config/candidates, a supervisor, audited) and the command line
// and the API (which the web application calls exactly like this, with no top_k and no
// threshold) give the same list for the same probe and gallery, each recording the policy that
// made it; with no department threshold both use the model's calibrated one.
#include <fstream>

#include "common/command.h"
#include "server_gallery_util.h"
#include "vision/models.h"

namespace facetrail::server::testing {
namespace {

class CandidatePolicyTest : public GalleryServerTest {
 protected:
  // The accountable search through the facetrail program, as sam; its --json output.
  json CliSearch(const std::string& probe_path, const std::string& extra = "") {
    std::string cmd = "FACETRAIL_PASSWORD='sam-password-1' '" FACETRAIL_BINARY_DIR
                      "/facetrail' search --db '" +
                      db_path_ + "' --user sam --case " + kCase +
                      " --purpose 'criminal investigation' --offense robbery --justification "
                      "'CCTV still from the bank robbery of 2026-11-02' --agency 'Metro PD' "
                      "--probe '" +
                      probe_path + "' --models '" FACETRAIL_MODELS_DIR "' --json " + extra +
                      " 2>/dev/null </dev/null";
    facetrail::testing::CommandRun run = facetrail::testing::RunCommand(cmd);
    last_exit_ = run.exit_code;
    return json::parse(run.out, nullptr, false);
  }

  static std::vector<std::pair<std::string, double>> List(const json& response) {
    std::vector<std::pair<std::string, double>> out;
    for (const json& c : response["candidates"]) {
      out.emplace_back(c["booking_number"].get<std::string>(), c["score"].get<double>());
    }
    return out;
  }

  static void ExpectSameList(const json& a, const json& b) {
    auto la = List(a), lb = List(b);
    ASSERT_EQ(la.size(), lb.size()) << a.dump() << "\n" << b.dump();
    for (size_t i = 0; i < la.size(); ++i) {
      EXPECT_EQ(la[i].first, lb[i].first) << "rank " << i + 1;
      EXPECT_NEAR(la[i].second, lb[i].second, 1e-5) << "rank " << i + 1;
    }
    EXPECT_EQ(a["policy"], b["policy"]);
  }

  int last_exit_ = -1;
};

TEST_F(CandidatePolicyTest, CommandLineAndApiGiveTheSameListUnderTheOnePolicy) {
  StartServer();
  Caller admin = Login("admin", kAdminPassword);
  MakeUser(admin, "sam", {"searcher"}, true);
  MakeUser(admin, "sue", {"supervisor"}, false);
  Caller sam = Login("sam", "sam-password-1");
  Caller sue = Login("sue", "sue-password-1");
  const std::string probe_path = kLfwImages + "/Abdullah_Gul/Abdullah_Gul_0010.jpg";
  const std::string probe = ReadWholeFile(probe_path);
  ASSERT_GT(probe.size(), 1000u);

  // Only a supervisor or an admin sets it, with a reason; bad values name the field.
  Reply refused = Send("PUT", "/api/v1/config/candidates", sam,
                       {{"max_list_length", 3}, {"threshold", 0.1}, {"reason", "r"}});
  EXPECT_EQ(refused.status, 403) << refused.raw;
  Reply bad = Send("PUT", "/api/v1/config/candidates", sue,
                   {{"max_list_length", "three"}, {"threshold", 0.1}, {"reason", "r"}});
  EXPECT_EQ(bad.status, 400) << bad.raw;
  EXPECT_NE(bad.raw.find("max_list_length"), std::string::npos) << bad.raw;
  Reply out_of_range = Send("PUT", "/api/v1/config/candidates", sue,
                            {{"max_list_length", 3}, {"threshold", 1.5}, {"reason", "r"}});
  EXPECT_EQ(out_of_range.status, 400) << out_of_range.raw;

  // A low department threshold and a short list: every bookings passes, three are listed.
  Reply set = Send("PUT", "/api/v1/config/candidates", sue,
                   {{"max_list_length", 3},
                    {"threshold", -1.0},
                    {"reason", "test: list the three best whatever their score"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(CountAudit("config.candidates"), 1);
  Reply config = Send("GET", "/api/v1/config", sam);
  EXPECT_EQ(config.body["candidate_policy"]["max_list_length"], 3) << config.raw;

  Reply api = Upload("/api/v1/searches", sam, probe, SearchFields());
  ASSERT_EQ(api.status, 201) << api.raw;
  EXPECT_EQ(api.body["candidates"].size(), 3u) << api.raw;
  EXPECT_EQ(api.body["policy"]["threshold_source"], "department");
  EXPECT_EQ(api.body["policy"]["max_list_length"], 3);
  EXPECT_FLOAT_EQ(api.body["policy"]["threshold"].get<float>(), -1.f);
  json cli = CliSearch(probe_path);
  ASSERT_EQ(last_exit_, 0) << cli.dump();
  ExpectSameList(api.body, cli);
  // The request's own page (what the web application shows) records the same policy.
  Reply lead =
      Send("GET", "/api/v1/searches/" + std::to_string(api.body["request_id"].get<int>()), sam);
  ASSERT_EQ(lead.status, 200) << lead.raw;
  EXPECT_EQ(lead.body["policy"], api.body["policy"]);

  // No department threshold: the model's calibrated one, for both. Without a length the list
  // length stays what it was (issue 17: changing the threshold alone needs no --length).
  set = Send("PUT", "/api/v1/config/candidates", sue,
             {{"threshold", nullptr}, {"reason", "back to calibration"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body["max_list_length"], 3) << set.raw;
  set = Send("PUT", "/api/v1/config/candidates", sue,
             {{"max_list_length", 20}, {"threshold", nullptr}, {"reason", "a longer list"}});
  ASSERT_EQ(set.status, 200) << set.raw;
  std::ifstream manifest(std::string(FACETRAIL_MODELS_DIR) + "/" +
                         std::string(vision::kDefaultModelName) + ".model.json");
  json model = json::parse(manifest, nullptr, false);
  const double calibrated = model["calibration"]["candidate"]["score"].get<double>();
  api = Upload("/api/v1/searches", sam, probe, SearchFields());
  ASSERT_EQ(api.status, 201) << api.raw;
  EXPECT_EQ(api.body["policy"]["threshold_source"], "model calibration");
  EXPECT_NEAR(api.body["policy"]["threshold"].get<double>(), calibrated, 1e-6);
  for (const json& c : api.body["candidates"]) EXPECT_GE(c["score"].get<double>(), calibrated);
  cli = CliSearch(probe_path);
  ASSERT_EQ(last_exit_, 0) << cli.dump();
  ExpectSameList(api.body, cli);

  // The command line may not pick its own threshold under accountability.
  CliSearch(probe_path, "--min-score 0.1");
  EXPECT_NE(last_exit_, 0);
}

}  // namespace
}  // namespace facetrail::server::testing
