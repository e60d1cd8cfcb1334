// TF.js weight files (a `*-weights_manifest.json` plus its `.bin` shards), as shipped in the
// face-api.js model folder.
//
// Format (tfjs-core io_utils decodeWeight): the manifest is a list of groups {paths, weights};
// a group's .bin files are concatenated and its tensors follow each other in manifest order,
// unaligned. A tensor with `quantization: {dtype: uint8, scale, min}` takes one byte per element
// and decodes to q·scale + min (computed in double, stored as float; int32 tensors round);
// otherwise it is raw little-endian float32 (or int32). Shapes are row-major.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace facetrail::nn {

struct WeightTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;  // product(shape) floats, row-major
  int64_t num_elements() const;
};

class WeightMap {
 public:
  // Loads `<dir>/<name>-weights_manifest.json` and its shards. Missing or short files are
  // kNotFound / kDataLoss naming the file and suggesting `scripts/fetch-models`.
  static Expected<WeightMap> Load(const std::string& dir, const std::string& name);

  // The tensor called `name`, checked to have `shape` (empty = any). kNotFound / kDataLoss.
  Expected<const WeightTensor*> Get(const std::string& name,
                                    const std::vector<int64_t>& shape = {}) const;
  size_t size() const { return tensors_.size(); }
  const std::string& source() const { return source_; }

 private:
  std::string source_;  // the manifest path, for messages
  std::map<std::string, WeightTensor> tensors_;
};

}  // namespace facetrail::nn
