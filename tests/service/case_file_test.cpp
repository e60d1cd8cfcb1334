// The case file (issue 13) and the signed case package (issue 16): one builder, role-checked and
// audited; the package verifies offline and fails after any change of any byte, any removed or
// added file, or a re-signature by another key.
#include "service/case_file.h"

#include <sys/stat.h>

#include <fstream>

#include "common/file.h"
#include "service/case_package.h"
#include "service/retention.h"
#include "service_test_util.h"

namespace facetrail::service {
namespace {

namespace fs = std::filesystem;
using testing::ServiceTest;

constexpr const char* kRaceMarker = "RACE-FIELD-MARKER";

class CaseFileTest : public ServiceTest {
 protected:
  void SetUp() override {
    ServiceTest::SetUp();
    auto config = ctx_->store().LoadConfig();
    ASSERT_TRUE(config.ok());
    config->candidate_threshold = -1.f;  // every booking passes: a list of five
    ASSERT_TRUE(UpdateConfig(*ctx_, admin_, *config).ok());
    auto r = Search(sam_, Request(Probe(7)));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    request_ = *r;
    ASSERT_GE(request_.list.candidates.size(), 3u);
    // The booking system recorded race/ethnicity and more for the first candidate.
    auto stmt = gallery_db().Prepare(
        "UPDATE bookings SET race_ethnicity = ?, dob = '1990-01-02', sex = 'M', charge = "
        "'robbery', agency = 'Metro PD', booking_date = '2025-05-05' WHERE booking_number = ?");
    ASSERT_TRUE(stmt.ok());
    stmt->Bind(1, kRaceMarker).Bind(2, request_.list.candidates[0].booking_number);
    ASSERT_TRUE(stmt->Run().ok());
    // ... and the photo came from an ANSI/NIST-ITL transaction (issue 16): its origin.
    auto origin = gallery_db().Prepare("UPDATE photos SET origin = ? WHERE id = ?");
    ASSERT_TRUE(origin.ok());
    origin
        ->Bind(1, R"({"format": "ANSI/NIST-ITL", "face": {"sap": 40, "pose": "frontal"},)"
                  R"( "unmapped": {"2.040": "farmer"}})")
        .Bind(2, request_.list.candidates[0].photo_id);
    ASSERT_TRUE(origin->Run().ok());
    auto key = audit::LoadSigningKey(dir_ + "/audit.key");
    ASSERT_TRUE(key.ok()) << key.status().ToString();
    key_ = *key;
  }

  std::vector<CandidateExamination> Exam() {
    CandidateExamination one;
    one.rank = 1;
    one.conclusion = "possible lead";
    one.notes = "ear shape and scar agree";
    one.components = {{Component::kEars, FeatureMark::kSimilar, "same helix"},
                      {Component::kMarksScars, FeatureMark::kSimilar, "scar above left brow"}};
    ViewingSettings v;
    v.contrast = 1.4;
    v.views = {"aligned", "wipe"};
    one.viewing = v;
    CandidateExamination two;
    two.rank = 2;
    two.conclusion = "not a lead";
    two.components = {{Component::kNose, FeatureMark::kDissimilar, "broader bridge"}};
    return {one, two};
  }

  void Release() {
    ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
    ASSERT_TRUE(Verify(*ctx_, ed_, id(), Exam()).ok());
  }

  Expected<CaseFile> Build(const Actor& who, CaseFileUse use = CaseFileUse::kView) {
    return BuildCaseFile(*ctx_, who, *gallery_, id(), use);
  }

  int64_t id() const { return request_.request_id; }
  SearchResponse request_;
  audit::SigningKey key_;
};

TEST_P(CaseFileTest, HoldsTheProbeTheReleasedCandidatesBothExaminationsAndTheTrail) {
  Release();
  auto file = Build(sue_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->notice, std::string(kLeadNotice));
  EXPECT_EQ(file->case_number, testing::kCase);
  EXPECT_EQ(file->offense, "armed robbery");
  EXPECT_EQ(file->probe.bytes, Probe(7));
  EXPECT_EQ(file->probe.sha256, request_.probe_sha256);
  EXPECT_FALSE(file->probe.steps.empty());
  EXPECT_EQ(file->policy.model.id, testing::kModel.id);
  EXPECT_FALSE(file->policy.gallery_version.empty());
  EXPECT_EQ(file->policy.threshold_source, "department");
  ASSERT_EQ(file->examinations.size(), 2u);
  EXPECT_EQ(file->examinations[0].stage, "examination");
  EXPECT_EQ(file->examinations[0].examiner, "eve");
  EXPECT_EQ(file->examinations[1].stage, "verification");
  EXPECT_EQ(file->examinations[1].examiner, "ed");
  ASSERT_EQ(file->examinations[1].candidates[0].components.size(), 2u);
  EXPECT_EQ(file->examinations[1].candidates[0].components[0].component, Component::kEars);

  // Examined candidates carry booking and photo; the others only their standing.
  ASSERT_EQ(file->candidates.size(), request_.list.candidates.size());
  EXPECT_EQ(file->candidates[0].conclusion, "possible lead");
  ASSERT_TRUE(file->candidates[0].booking);
  EXPECT_EQ(file->candidates[0].booking->charge, "robbery");
  ASSERT_TRUE(file->candidates[0].photo);
  EXPECT_EQ(
      std::string(file->candidates[0].photo->bytes.begin(), file->candidates[0].photo->bytes.end()),
      "photo of booking 7");
  EXPECT_EQ(file->candidates[1].conclusion, "not a lead");
  EXPECT_TRUE(file->candidates[1].photo);
  EXPECT_EQ(file->candidates[2].conclusion, std::string(kNotExamined));
  EXPECT_FALSE(file->candidates[2].booking);
  EXPECT_FALSE(file->candidates[2].photo);

  // The trail: the request's entries in order, ending with this view.
  std::vector<std::string> actions;
  for (const audit::Entry& e : file->audit_trail) actions.push_back(e.action);
  ASSERT_GE(actions.size(), 5u);
  EXPECT_EQ(actions.front(), "search.request");
  EXPECT_EQ(actions.back(), "case.view");
  for (const char* a : {"review.examine", "review.verify", "lead.release"}) {
    EXPECT_NE(std::find(actions.begin(), actions.end(), a), actions.end()) << a;
  }

  nlohmann::json j = CaseFileJson(*file, /*inline_images=*/true);
  const std::string text = j.dump();
  EXPECT_EQ(text.find(kRaceMarker), std::string::npos) << "never race/ethnicity";
  EXPECT_EQ(text.find("race_ethnicity"), std::string::npos);
  EXPECT_EQ(j["notice"], std::string(kLeadNotice));
  EXPECT_EQ(j["examinations"].size(), 2u);
  EXPECT_EQ(j["examinations"][0]["candidates"][0]["components"].size(), kNumComponents);
  EXPECT_FALSE(j["probe"]["data_base64"].get<std::string>().empty());
  EXPECT_FALSE(j["candidates"][0]["photo"]["data_base64"].get<std::string>().empty());
  EXPECT_EQ(j["candidates"][0]["photo"]["origin"]["unmapped"]["2.040"], "farmer");
  EXPECT_EQ(j["candidates"][0]["photo"]["origin"]["face"]["sap"], 40);
  EXPECT_TRUE(j["candidates"][0]["photo"]["searchable"].get<bool>());
  EXPECT_EQ(j["candidates"][1]["photo"]["origin"], nullptr);
  EXPECT_EQ(j["audit_trail"].back()["action"], "case.view");
  EXPECT_FALSE(CaseFileJson(*file, false)["probe"].contains("data_base64"));
}

TEST_P(CaseFileTest, WhoMayHaveItAndEveryViewIsAudited) {
  Release();
  Actor other = MakeUser("other", {policy::Role::kSearcher}, true);
  ExpectRefused(Build(other).status(), "wrong_role");
  ExpectRefused(Build(admin_).status(), "wrong_role");
  ExpectRefused(BuildCaseFile(*ctx_, other, *gallery_, 999, CaseFileUse::kView).status(),
                "wrong_role");
  EXPECT_EQ(Entries("case.file.refused").size(), 3u);
  EXPECT_EQ(Entries("case.view").size(), 0u);
  for (const Actor& who : {sam_, eve_, ed_, sue_, al_}) {
    auto file = Build(who);
    ASSERT_TRUE(file.ok()) << who.name << ": " << file.status().ToString();
    EXPECT_EQ(file->generated_by, who.name);
  }
  EXPECT_EQ(Entries("case.view").size(), 5u);
  EXPECT_EQ(BuildCaseFile(*ctx_, sue_, *gallery_, 999, CaseFileUse::kView).status().code(),
            StatusCode::kNotFound);

  // The requester and the reviewers see the booking; the auditor the process, not the person.
  auto requester = Build(sam_);
  ASSERT_TRUE(requester.ok());
  EXPECT_EQ(requester->booking_detail, BookingDetail::kFull);
  EXPECT_EQ(requester->candidates[0].booking->name, "Person 7");
  auto auditor = Build(al_);
  ASSERT_TRUE(auditor.ok());
  EXPECT_EQ(auditor->booking_detail, BookingDetail::kRestricted);
  const CaseBooking& b = *auditor->candidates[0].booking;
  EXPECT_FALSE(b.name);
  EXPECT_FALSE(b.dob);
  EXPECT_FALSE(b.sex);
  EXPECT_FALSE(b.charge);
  EXPECT_EQ(b.agency, "Metro PD");
  ASSERT_TRUE(auditor->candidates[0].photo);
  EXPECT_TRUE(auditor->candidates[0].photo->bytes.empty());
  EXPECT_EQ(auditor->candidates[0].photo->sha256.size(), 64u);
  nlohmann::json j = CaseFileJson(*auditor, true);
  EXPECT_EQ(j["candidates"][0]["booking"]["name"], nullptr);
  EXPECT_FALSE(j["candidates"][0]["photo"]["included"].get<bool>());
  EXPECT_EQ(j["candidates"][0]["photo"]["origin"], nullptr);  // the raw fields may name the person
  EXPECT_FALSE(j["candidates"][0]["photo"].contains("data_base64"));

  // A locked account is refused.
  ASSERT_TRUE(SetLocked(*ctx_, admin_, "sue", true, "left the unit").ok());
  ExpectRefused(Build(sue_).status(), "account_locked");
}

TEST_P(CaseFileTest, OnlyAReleasedLeadHasACaseFile) {
  EXPECT_EQ(Build(sue_).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(Examine(*ctx_, eve_, id(), Exam()).ok());
  // Not even for the second examiner, who must stay blind to the first examination.
  EXPECT_EQ(Build(ed_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Build(sam_).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Entries("case.view").size(), 0u);
}

TEST_P(CaseFileTest, APurgedProbeIsNamedNotInvented) {
  Release();
  SetToday("2027-03-10T09:00:00Z");  // past the retention period
  auto purge = PurgeProbes(*ctx_, admin_);
  ASSERT_TRUE(purge.ok()) << purge.status().ToString();
  ASSERT_EQ(purge->purged_sha256.size(), 1u);
  auto file = Build(sue_);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_TRUE(file->probe.bytes.empty());
  ASSERT_TRUE(file->probe_purged);
  EXPECT_NE(file->probe_purged->find("purged"), std::string::npos);
  nlohmann::json j = CaseFileJson(*file, true);
  EXPECT_EQ(j["probe"]["probe_sha256"], request_.probe_sha256);
  EXPECT_FALSE(j["probe"].contains("data_base64"));
  EXPECT_EQ(j["examinations"].size(), 2u);
  auto package = ExportCasePackage(*ctx_, sue_, *gallery_, id(), key_, dir_ + "/purged");
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(std::count(package->files.begin(), package->files.end(), "probe.jpg"), 0);
  auto check = VerifyCasePackage(dir_ + "/purged", {{key_.public_key}, {}});
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok());
}

// ---- The signed package ----

class CasePackageTest : public CaseFileTest {
 protected:
  void SetUp() override {
    CaseFileTest::SetUp();
    Release();
    out_ = dir_ + "/package";
    auto package = ExportCasePackage(*ctx_, sue_, *gallery_, id(), key_, out_);
    ASSERT_TRUE(package.ok()) << package.status().ToString();
    package_ = *package;
  }

  CaseTrust Trust() const { return {{key_.public_key}, {}}; }

  CasePackageCheck Check(const CaseTrust& trust) {
    auto check = VerifyCasePackage(out_, trust);
    EXPECT_TRUE(check.ok()) << check.status().ToString();
    return check.ok() ? *check : CasePackageCheck{};
  }

  // Every file of the package, relative to it.
  std::vector<std::string> AllFiles() {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(out_)) {
      if (e.is_regular_file()) out.push_back(fs::relative(e.path(), out_).generic_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string Joined(const CasePackageCheck& c) {
    std::string s;
    for (const std::string& p : c.problems) s += p + "\n";
    return s;
  }

  std::string out_;
  CasePackage package_;
};

TEST_P(CasePackageTest, HoldsTheCaseFileAndVerifiesOffline) {
  const std::string photo1 =
      "photos/rank-1-photo-" + std::to_string(request_.list.candidates[0].photo_id) + ".bin";
  const std::string photo2 =
      "photos/rank-2-photo-" + std::to_string(request_.list.candidates[1].photo_id) + ".bin";
  EXPECT_EQ(AllFiles(), (std::vector<std::string>{"case.json", "manifest.sig", "manifest.txt",
                                                  photo1, photo2, "probe.jpg", "signing-key.pub"}));
  struct stat st {};
  ASSERT_EQ(::stat(out_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((out_ + "/probe.jpg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto probe = ReadFileBytes(out_ + "/probe.jpg");
  ASSERT_TRUE(probe.ok());
  EXPECT_EQ(*probe, Probe(7)) << "byte for byte as uploaded";
  auto json_bytes = ReadFileBytes(out_ + "/case.json");
  ASSERT_TRUE(json_bytes.ok());
  nlohmann::json j = nlohmann::json::parse(json_bytes->begin(), json_bytes->end());
  EXPECT_EQ(j["probe"]["file"], "probe.jpg");
  EXPECT_EQ(j["candidates"][0]["photo"]["file"], photo1);
  EXPECT_EQ(j["examinations"].size(), 2u);
  EXPECT_EQ(j["audit_trail"].back()["action"], "case.export");
  EXPECT_EQ(std::string(json_bytes->begin(), json_bytes->end()).find(kRaceMarker),
            std::string::npos);

  CasePackageCheck ok = Check(Trust());
  EXPECT_TRUE(ok.ok()) << Joined(ok);
  EXPECT_EQ(ok.request_id, id());
  EXPECT_EQ(ok.files, package_.files);
  // By key id, as `admin init` and `admin signing-key` print it.
  EXPECT_TRUE(Check({{}, {key_.public_key.KeyId()}}).ok());
  // No trusted key: refused, never "verified" by the package's own key.
  EXPECT_EQ(VerifyCasePackage(out_, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyCasePackage(dir_ + "/nothing", Trust()).status().code(), StatusCode::kNotFound);
  // Audited, and never over an existing folder.
  EXPECT_EQ(Entries("case.export").size(), 1u);
  EXPECT_EQ(ExportCasePackage(*ctx_, sue_, *gallery_, id(), key_, out_).status().code(),
            StatusCode::kAlreadyExists);
}

TEST_P(CasePackageTest, AnyChangedByteOfAnyFileFailsNamingTheFile) {
  int flips = 0;
  for (const std::string& rel : AllFiles()) {
    const std::string path = out_ + "/" + rel;
    auto original = ReadFileBytes(path);
    ASSERT_TRUE(original.ok());
    // Every byte of files up to 1 KiB; 1024 positions spread over larger ones (first and last
    // included).
    const size_t n = original->size();
    ASSERT_GT(n, 0u) << rel;
    const size_t step = n <= 1024 ? 1 : n / 1024;
    std::vector<size_t> positions;
    for (size_t i = 0; i < n; i += step) positions.push_back(i);
    if ((n - 1) % step != 0) positions.push_back(n - 1);
    for (size_t pos : positions) {
      for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
        std::vector<uint8_t> changed = *original;
        changed[pos] ^= mask;
        {
          std::ofstream f(path, std::ios::binary | std::ios::trunc);
          f.write(reinterpret_cast<const char*>(changed.data()),
                  static_cast<std::streamsize>(changed.size()));
        }
        CasePackageCheck c = Check(Trust());
        ASSERT_FALSE(c.ok()) << rel << " byte " << pos << " ^ " << int{mask};
        ASSERT_NE(Joined(c).find(rel), std::string::npos)
            << rel << " byte " << pos << ": " << Joined(c);
        ++flips;
      }
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(original->data()),
            static_cast<std::streamsize>(original->size()));
    f.close();
    ASSERT_TRUE(Check(Trust()).ok()) << "restored " << rel;
  }
  EXPECT_GT(flips, 1000);
}

TEST_P(CasePackageTest, ARemovedOrAddedFileFails) {
  for (const std::string& rel : AllFiles()) {
    const std::string path = out_ + "/" + rel;
    const std::string aside = dir_ + "/aside";
    fs::rename(path, aside);
    CasePackageCheck c = Check(Trust());
    EXPECT_FALSE(c.ok()) << rel;
    EXPECT_NE(Joined(c).find(rel), std::string::npos) << rel << ": " << Joined(c);
    fs::rename(aside, path);
  }
  ASSERT_TRUE(Check(Trust()).ok());
  for (const std::string extra : {"notes.txt", "photos/rank-9-photo-9.jpg", ".hidden"}) {
    { std::ofstream(out_ + "/" + extra) << "planted"; }
    CasePackageCheck c = Check(Trust());
    EXPECT_FALSE(c.ok()) << extra;
    EXPECT_NE(Joined(c).find(extra), std::string::npos) << Joined(c);
    fs::remove(out_ + "/" + extra);
  }
  fs::create_symlink("/etc/passwd", out_ + "/link");
  EXPECT_NE(Joined(Check(Trust())).find("link: not a regular file"), std::string::npos);
  fs::remove(out_ + "/link");
  ASSERT_TRUE(Check(Trust()).ok());
}

TEST_P(CasePackageTest, AForgerCannotReSignWithAnotherKey) {
  // The forger changes the probe, rewrites the manifest and signs it with their own key, which
  // they put in the package.
  auto forger = audit::CreateSigningKey(dir_ + "/forger.key");
  ASSERT_TRUE(forger.ok());
  { std::ofstream(out_ + "/probe.jpg", std::ios::binary | std::ios::trunc) << "another face"; }
  auto manifest = ReadFileBytes(out_ + "/manifest.txt");
  ASSERT_TRUE(manifest.ok());
  std::string text(manifest->begin(), manifest->end());
  const std::string old_sha = Sha256Hex(Probe(7));
  text.replace(text.find(old_sha), 64, Sha256Hex(std::string_view("another face")));
  text.replace(text.find(key_.public_key.KeyId()), 16, forger->public_key.KeyId());
  { std::ofstream(out_ + "/manifest.txt", std::ios::binary | std::ios::trunc) << text; }
  {
    std::ofstream(out_ + "/manifest.sig", std::ios::binary | std::ios::trunc)
        << audit::SignMessage(*forger, text) << "\n";
  }
  {
    std::ofstream(out_ + "/signing-key.pub", std::ios::binary | std::ios::trunc)
        << ToHex(forger->public_key.bytes) << "\n";
  }
  // Self-consistent under the forger's key...
  EXPECT_TRUE(Check({{forger->public_key}, {}}).ok());
  // ...and refused under the department's.
  CasePackageCheck c = Check(Trust());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(Joined(c).find("signing-key.pub: the package is signed with key " +
                           forger->public_key.KeyId()),
            std::string::npos)
      << Joined(c);
  EXPECT_FALSE(Check({{}, {key_.public_key.KeyId()}}).ok());
}

TEST_P(CasePackageTest, WrongRolesCannotExportAndRefusalsAreAudited) {
  Actor other = MakeUser("other", {policy::Role::kSearcher}, true);
  for (const Actor& who : {other, admin_}) {
    const std::string dir = dir_ + "/refused-" + who.name;
    ExpectRefused(ExportCasePackage(*ctx_, who, *gallery_, id(), key_, dir).status(), "wrong_role");
    EXPECT_FALSE(fs::exists(dir)) << "nothing written";
  }
  auto refused = Entries("case.file.refused");
  ASSERT_EQ(refused.size(), 2u);
  EXPECT_NE(refused[0].details.find("\"step\":\"export\""), std::string::npos)
      << refused[0].details;
  EXPECT_EQ(Entries("case.export").size(), 1u);
  // No temporary folder left behind by the successful export either.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_EQ(e.path().filename().string().find(".partial-"), std::string::npos) << e.path();
  }
  // The requester may export (a released lead is theirs to take to court).
  EXPECT_TRUE(ExportCasePackage(*ctx_, sam_, *gallery_, id(), key_, dir_ + "/requester").ok());
}

FT_INSTANTIATE_BACKENDS(CaseFileTest);
FT_INSTANTIATE_BACKENDS(CasePackageTest);

}  // namespace
}  // namespace facetrail::service
