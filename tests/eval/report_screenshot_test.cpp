// Acceptance (issue 6): the HTML report opens in headless Chromium without errors, and a
// screenshot of it is taken (written to <build>/eval-report-screenshot.png for a look by eye).
// The report is the reference's LFW dev report plus a synthetic second system with groups, so
// every section (tables, ROC, DET, CMC, histograms, groups) is drawn.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "common/file.h"
#include "eval/evaluation.h"

namespace facetrail::eval {
namespace {

namespace fs = std::filesystem;

const std::string kLfw = std::string(FACETRAIL_SHARED_DIR) + "/data/lfw-deepfunneled-dev";
const std::string kDistances =
    std::string(FACETRAIL_SHARED_DIR) + "/peers/faceapi/reference/lfw-dev-pairs-distances.csv";

std::string Slurp(const std::string& path) {
  Expected<std::vector<uint8_t>> b = ReadFileBytes(path);
  return b.ok() ? std::string(b->begin(), b->end()) : std::string();
}

// Synthetic unit vectors: one random direction per identity plus noise; 5 % of images "no face".
SystemResults Synthetic(const Dataset& d) {
  std::mt19937 rng(7);
  std::normal_distribution<double> n(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::map<std::string, std::vector<double>> centre;
  SystemResults s;
  s.name = "synthetic";
  s.description = "random unit vectors, identity direction + noise (test only)";
  s.fixed_threshold = 0.5;
  for (const LabelledImage& img : d.images) {
    std::vector<double>& c = centre[img.identity];
    if (c.empty()) {
      for (int k = 0; k < 16; ++k) c.push_back(n(rng));
    }
    if (u(rng) < 0.05) {
      s.image_vectors.emplace_back();
      continue;
    }
    std::vector<double> v(16);
    double norm = 0;
    for (int k = 0; k < 16; ++k) {
      v[size_t(k)] = c[size_t(k)] + 0.9 * n(rng);
      norm += v[size_t(k)] * v[size_t(k)];
    }
    for (double& x : v) x /= std::sqrt(norm);
    s.image_vectors.push_back(std::move(v));
  }
  return s;
}

TEST(ReportScreenshotTest, OpensInHeadlessChromiumWithoutErrors) {
  if (!fs::exists(kDistances)) GTEST_SKIP() << "no " << kDistances;
  if (std::system("command -v chromium > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "chromium is not installed (scripts/deps installs it)";
  }
  Expected<Dataset> d = LoadDataset(kLfw);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_TRUE(LoadGroups(kLfw + "/folds.csv", *d).ok());
  Expected<SystemResults> ref = ReadPairDistancesCsv(kDistances, *d);
  ASSERT_TRUE(ref.ok()) << ref.status().ToString();
  EvalOptions options;
  options.all_pairs = false;  // keeps the test quick; all pairs are drawn like official pairs
  Expected<Report> report = Evaluate(*d, {Synthetic(*d), *ref}, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  report->command_line = "report_screenshot_test";
  report->created_utc = "test";

  const fs::path out = fs::temp_directory_path() / ("ft_eval_shot_" + std::to_string(getpid()));
  ASSERT_TRUE(WriteReport(*report, out.string()).ok());
  const std::string html = Slurp((out / "report.html").string());
  // Self-contained: nothing to fetch, nothing to run.
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);

  const std::string png = std::string(FACETRAIL_BINARY_DIR) + "/eval-report-screenshot.png";
  fs::remove(png);
  const fs::path profile = out / "profile";
  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
      "--disable-component-update --disable-sync --no-first-run --user-data-dir='" +
      profile.string() + "' --enable-logging=stderr --v=0 ";
  const std::string url = "file://" + (out / "report.html").string();
  const std::string log = (out / "chromium.log").string();
  const std::string dom = (out / "dom.html").string();
  ASSERT_EQ(std::system((chromium + "--screenshot='" + png + "' --window-size=1280,2600 '" + url +
                         "' > /dev/null 2> '" + log + "'")
                            .c_str()),
            0)
      << Slurp(log);
  ASSERT_EQ(std::system(
                (chromium + "--dump-dom '" + url + "' > '" + dom + "' 2>> '" + log + "'").c_str()),
            0);
  // Console messages (CONSOLE), failed loads (net::ERR_) and script errors (Uncaught) would
  // show in the log; D-Bus complaints of a headless container are not about the page.
  const std::string messages = Slurp(log);
  for (const char* bad : {"CONSOLE", "net::ERR_", "Uncaught", "Refused to"}) {
    EXPECT_EQ(messages.find(bad), std::string::npos) << bad << " in:\n" << messages;
  }
  const std::string rendered = Slurp(dom);
  EXPECT_NE(rendered.find("facetrail accuracy report"), std::string::npos);
  for (const char* plot : {"<title>ROC</title>", "<title>DET</title>", "<title>CMC</title>",
                           "Per group", "synthetic: 1:N"}) {
    EXPECT_NE(rendered.find(plot), std::string::npos) << plot;
  }
  const std::string shot = Slurp(png);
  ASSERT_GT(shot.size(), 10000u);
  EXPECT_EQ(shot.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  fs::remove_all(out);
}

}  // namespace
}  // namespace facetrail::eval
