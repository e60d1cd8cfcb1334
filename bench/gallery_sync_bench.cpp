// facetrail-bench-gallery-sync: what an enrollment costs the searches of a running index.
//
// WORKLOAD
//   A SQLite gallery of N bookings with one random unit template each (written in batches of
//   10,000 per transaction), its search snapshot, then M new bookings enrolled while an index is
//   open. Figures:
//     open_rebuild_s   GalleryIndex::Open on the fresh gallery (SQLite scan + snapshot write)
//     delta_sync_s     the next Refresh after the M enrollments with the default options: the
//                      new rows join the in-memory delta (docs/SNAPSHOT.md)
//     rebuild_sync_s   the same Refresh with max_delta_templates = 0 (the file rewritten: what
//                      every enrollment cost before the delta)
//     search_*_ms_p50  search latency with the delta and after the rebuild (top 20)
//     same_results     both indexes return the same ranked lists for every query
//     populate_templates_per_s   the population's insert rate: GalleryStore::AddPhotos, 10,000
//                      bookings a call (with --per-photo: AddPhoto, 10,000 calls a transaction)
//     open_snapshot_s  a second server's GalleryIndex::Open with the snapshot present (mmap +
//                      check), beside open_rebuild_s (no snapshot: every row read and written)
//   Prints one JSON object.
//
// Usage: facetrail-bench-gallery-sync [--templates N] [--added M] [--queries Q] [--dir DIR]
//          [--dim D=128]
//          [--db URI]   (a PostgreSQL database, empty, instead of DIR/gallery.db; the snapshots
//                        then go to DIR: StoreOptions::snapshot_dir)
//          [--per-photo]  (populate with AddPhoto calls, not AddPhotos: the bulk path's reference)
//          [--keep]     (leave the gallery in place at the end, for --reuse)
//          [--reuse]    (the gallery a --keep run left, same --templates/--dim/--dir/--db: not
//                        populated again, so that the opens of a large gallery can be measured
//                        again without its insert; the snapshots are removed first, the open
//                        without them is still cold for facetrail, not for the OS page cache)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/db.h"
#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"

namespace {

using facetrail::Status;
using namespace facetrail::gallery;  // NOLINT(google-build-using-namespace): a benchmark main

ModelRef kModel{"bench-random", 1, 128};  // --dim sets the dimension

std::vector<float> RandomUnit(std::mt19937_64& rng) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(static_cast<size_t>(kModel.dim));
  double norm = 0;
  for (float& x : v) {
    x = n(rng);
    norm += static_cast<double>(x) * x;
  }
  for (float& x : v) x = static_cast<float>(x / std::sqrt(norm));
  return v;
}

// Bookings BENCH-first .. BENCH-(first+count-1), one photo and one random template each: one
// AddPhotos call (bulk), or with `one_call_each` one AddPhoto call each (each its own
// transaction unless the caller holds one).
Status AddBookings(GalleryStore& store, int first, int count, bool one_call_each,
                   std::mt19937_64& rng) {
  std::vector<PhotoToAdd> batch(static_cast<size_t>(count));
  for (int b = first; b < first + count; ++b) {
    PhotoToAdd& p = batch[static_cast<size_t>(b - first)];
    p.booking.booking_number = "BENCH-" + std::to_string(b);
    p.booking.name = "Synthetic " + std::to_string(b);
    const std::string text = "photo " + std::to_string(b);
    p.photo = {{text.begin(), text.end()}, {}, text, "", true, ""};
    p.templates = {{0, {}, {}, RandomUnit(rng)}};
  }
  if (one_call_each) {
    for (const PhotoToAdd& p : batch) {
      auto added = store.AddPhoto(p.booking, p.photo, kModel, p.templates);
      if (!added.ok()) return added.status();
    }
    return Status::Ok();
  }
  auto added = store.AddPhotos(kModel, batch);
  if (!added.ok()) return added.status();
  for (const auto& one : *added) {
    if (!one.ok()) return one.status();
  }
  return Status::Ok();
}

double Seconds(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int Fail(const Status& s) {
  std::cerr << "facetrail-bench-gallery-sync: " << s.ToString() << '\n';
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int templates = 200000, added = 100, queries = 20;
  std::string db_uri;
  bool keep = false, reuse = false, per_photo = false;
  std::string dir = std::filesystem::temp_directory_path() / "ft_bench_gallery_sync";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--keep" || flag == "--reuse" || flag == "--per-photo") {
      (flag == "--keep" ? keep : flag == "--reuse" ? reuse : per_photo) = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) return Fail(facetrail::InvalidArgument("flag " + flag + " needs a value"));
    if (flag == "--templates")
      templates = std::stoi(argv[i + 1]);
    else if (flag == "--added")
      added = std::stoi(argv[i + 1]);
    else if (flag == "--queries")
      queries = std::stoi(argv[i + 1]);
    else if (flag == "--dir")
      dir = argv[i + 1];
    else if (flag == "--dim")
      kModel.dim = std::stoi(argv[i + 1]);
    else if (flag == "--db")
      db_uri = argv[i + 1];
    else
      return Fail(facetrail::InvalidArgument("unknown flag " + flag));
  }
  // The snapshots go to DIR/snapshots on both engines, so that --reuse can remove them alone.
  const std::string snapshots = dir + "/snapshots";
  if (!reuse) std::filesystem::remove_all(dir);
  std::filesystem::remove_all(snapshots);
  std::filesystem::create_directories(snapshots);
  const std::string db_path = db_uri.empty() ? dir + "/gallery.db" : db_uri;
  StoreOptions store_options;
  store_options.snapshot_dir = snapshots;
  std::mt19937_64 rng(42);

  double populate_s = 0;
  if (!reuse) {  // Populate in large transactions (one per photo would be fsync-bound).
    auto db = facetrail::Db::Open(db_path, true);
    if (!db.ok()) return Fail(db.status());
    auto store = GalleryStore::OpenOn(*db);  // populating only: no index, no snapshot
    if (!store.ok()) return Fail(store.status());
    const auto t0 = std::chrono::steady_clock::now();
    for (int first = 0; first < templates; first += 10000) {
      const int n = std::min(10000, templates - first);
      Status s = per_photo
                     ? db->InTransaction([&] { return AddBookings(**store, first, n, true, rng); })
                     : AddBookings(**store, first, n, false, rng);
      if (!s.ok()) return Fail(s);
      if (first % 1000000 == 0 && first > 0) {
        std::cerr << "populated " << first << " templates in " << Seconds(t0) << " s\n";
      }
    }
    populate_s = Seconds(t0);
    std::cerr << "populated " << templates << " templates in " << populate_s << " s\n";
  }
  auto store = GalleryStore::Open(db_path, store_options);
  if (!store.ok()) return Fail(store.status());
  auto t = std::chrono::steady_clock::now();
  auto with_delta = GalleryIndex::Open(**store, kModel);
  if (!with_delta.ok()) return Fail(with_delta.status());
  const double open_rebuild_s = Seconds(t);
  double open_snapshot_s = 0;
  {  // A second server (its own store and connection) opening with the snapshot present.
    auto second = GalleryStore::Open(db_path, store_options);
    if (!second.ok()) return Fail(second.status());
    t = std::chrono::steady_clock::now();
    auto index = GalleryIndex::Open(**second, kModel);
    if (!index.ok()) return Fail(index.status());
    open_snapshot_s = Seconds(t);
  }
  GalleryIndexOptions rebuild_options;
  rebuild_options.max_delta_templates = 0;
  auto rebuilding = GalleryIndex::Open(**store, kModel, rebuild_options);
  if (!rebuilding.ok()) return Fail(rebuilding.status());

  if (Status s = AddBookings(**store, templates, added, true, rng); !s.ok()) return Fail(s);
  t = std::chrono::steady_clock::now();
  if (Status s = (*with_delta)->Refresh(); !s.ok()) return Fail(s);
  const double delta_sync_s = Seconds(t);
  t = std::chrono::steady_clock::now();
  if (Status s = (*rebuilding)->Refresh(); !s.ok()) return Fail(s);
  const double rebuild_sync_s = Seconds(t);

  std::vector<double> delta_ms, rebuilt_ms;
  bool same = true;
  for (int q = 0; q < queries; ++q) {
    const std::vector<float> probe = RandomUnit(rng);
    t = std::chrono::steady_clock::now();
    auto a = (*with_delta)->Search(probe, {20, -1.f});
    delta_ms.push_back(Seconds(t) * 1e3);
    t = std::chrono::steady_clock::now();
    auto b = (*rebuilding)->Search(probe, {20, -1.f});
    rebuilt_ms.push_back(Seconds(t) * 1e3);
    if (!a.ok()) return Fail(a.status());
    if (!b.ok()) return Fail(b.status());
    same = same && a->size() == b->size();
    for (size_t i = 0; same && i < a->size(); ++i) {
      same =
          (*a)[i].owner.template_id == (*b)[i].owner.template_id && (*a)[i].score == (*b)[i].score;
    }
  }
  auto p50 = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  nlohmann::json j = {{"database", db_uri.empty() ? "sqlite" : "postgresql"},
                      {"templates", templates},
                      {"dim", kModel.dim},
                      {"populate_method", per_photo ? "AddPhoto" : "AddPhotos"},
                      {"populate_templates_per_s", reuse ? 0 : templates / populate_s},
                      {"open_snapshot_s", open_snapshot_s},
                      {"added", added},
                      {"open_rebuild_s", open_rebuild_s},
                      {"delta_sync_s", delta_sync_s},
                      {"rebuild_sync_s", rebuild_sync_s},
                      {"rebuild_over_delta", rebuild_sync_s / delta_sync_s},
                      {"search_delta_ms_p50", p50(delta_ms)},
                      {"search_rebuilt_ms_p50", p50(rebuilt_ms)},
                      {"delta_size", (*with_delta)->delta_size()},
                      {"same_results", same}};
  std::cout << j.dump(2) << '\n';
  if (!keep) std::filesystem::remove_all(dir);
  return same ? 0 : 1;
}
