#include "nn/weights.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/file.h"

namespace facetrail::nn {

int64_t WeightTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

namespace {

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

constexpr const char* kFix = " (run scripts/fetch-models to fetch and verify the model files)";

// "<source>: tensor <tensor>: <what> <value> is not supported"
Status Unsupported(const std::string& source, const std::string& tensor, const char* what,
                   const std::string& value) {
  return DataLoss(source + ": tensor " + tensor + ": " + what + " " + value + " is not supported");
}

}  // namespace

Expected<WeightMap> WeightMap::Load(const std::string& dir, const std::string& name) {
  WeightMap map;
  map.source_ = dir + "/" + name + "-weights_manifest.json";
  auto manifest_bytes = ReadFileBytes(map.source_, size_t{16} << 20);
  if (!manifest_bytes.ok())
    return Status(manifest_bytes.status().code(), manifest_bytes.status().message() + kFix);
  nlohmann::json manifest = nlohmann::json::parse(manifest_bytes->begin(), manifest_bytes->end(),
                                                  nullptr, /*allow_exceptions=*/false);
  if (manifest.is_discarded() || !manifest.is_array()) {
    return DataLoss(map.source_ + ": not a TF.js weights manifest (expected a JSON array)" + kFix);
  }
  try {
    for (const auto& group : manifest) {
      std::vector<uint8_t> blob;
      for (const auto& p : group.at("paths")) {
        std::string shard = dir + "/" + p.get<std::string>();
        auto bytes = ReadFileBytes(shard, size_t{1} << 30);
        if (!bytes.ok()) return Status(bytes.status().code(), bytes.status().message() + kFix);
        blob.insert(blob.end(), bytes->begin(), bytes->end());
      }
      size_t offset = 0;
      for (const auto& w : group.at("weights")) {
        WeightTensor t;
        std::string tname = w.at("name").get<std::string>();
        t.shape = w.at("shape").get<std::vector<int64_t>>();
        std::string dtype = w.at("dtype").get<std::string>();
        int64_t n = t.num_elements();
        if (n < 0 || n > (int64_t{1} << 30)) {
          return DataLoss(map.source_ + ": tensor " + tname + " has a bad shape " +
                          ShapeString(t.shape));
        }
        t.values.resize(static_cast<size_t>(n));
        if (w.contains("quantization")) {
          const auto& q = w.at("quantization");
          std::string qdtype = q.at("dtype").get<std::string>();
          if (qdtype != "uint8") {
            return Unsupported(map.source_, tname, "quantization", qdtype);
          }
          double scale = q.at("scale").get<double>();
          double min = q.at("min").get<double>();
          if (offset + static_cast<size_t>(n) > blob.size()) {
            return DataLoss(map.source_ + ": weight data is shorter than the manifest says (at " +
                            tname + ")" + kFix);
          }
          for (int64_t i = 0; i < n; ++i) {
            double v = blob[offset + static_cast<size_t>(i)] * scale + min;
            if (dtype == "int32") v = std::round(v);
            t.values[static_cast<size_t>(i)] = static_cast<float>(v);
          }
          offset += static_cast<size_t>(n);
        } else {
          if (dtype != "float32" && dtype != "int32") {
            return Unsupported(map.source_, tname, "dtype", dtype);
          }
          size_t bytes = static_cast<size_t>(n) * 4;
          if (offset + bytes > blob.size()) {
            return DataLoss(map.source_ + ": weight data is shorter than the manifest says (at " +
                            tname + ")" + kFix);
          }
          if (dtype == "float32") {
            std::memcpy(t.values.data(), blob.data() + offset, bytes);
          } else {
            for (int64_t i = 0; i < n; ++i) {
              int32_t v;
              std::memcpy(&v, blob.data() + offset + static_cast<size_t>(i) * 4, 4);
              t.values[static_cast<size_t>(i)] = static_cast<float>(v);
            }
          }
          offset += bytes;
        }
        map.tensors_[tname] = std::move(t);
      }
      if (offset != blob.size()) {
        return DataLoss(map.source_ + ": weight data has " + std::to_string(blob.size() - offset) +
                        " bytes more than the manifest describes" + kFix);
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return DataLoss(map.source_ + ": malformed manifest: " + e.what());
  }
  return map;
}

Expected<const WeightTensor*> WeightMap::Get(const std::string& name,
                                             const std::vector<int64_t>& shape) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) return NotFound(source_ + ": no tensor named " + name);
  if (!shape.empty() && it->second.shape != shape) {
    return DataLoss(source_ + ": tensor " + name + " has shape " + ShapeString(it->second.shape) +
                    ", expected " + ShapeString(shape));
  }
  return &it->second;
}

}  // namespace facetrail::nn
