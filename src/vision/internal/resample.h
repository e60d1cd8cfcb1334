// Pixel resampling used before the networks. Two ways to make a network input from an image:
//  - CropPadResize: face-api.js's tensor path (PIPELINE.md §2): an integer crop, zero padding to
//    a square, TensorFlow's legacy bilinear resize (alignCorners = false, halfPixelCenters =
//    false: output pixel i samples source i·in/out). Reproduced exactly for parity.
//  - WarpAffine: a chip whose pixel (c, r) samples the image at A·(c, r) + t with bilinear
//    interpolation (pixel centres at integer coordinates, zero outside), after box-filtering
//    the image when the chip shrinks it by 2× or more (as dlib's extract_image_chip does with a
//    pyramid), so large faces do not alias.
#pragma once

#include <vector>

#include "vision/image.h"

namespace facetrail::vision::internal {

// RGB float raster, values 0..255 (not normalised), row-major, 3 floats a pixel.
struct FloatImage {
  int width = 0, height = 0;
  std::vector<float> data;
};

// requires: w > 0, h > 0. Parts of the crop outside the image read as zero (face-api clips
// crops to the image first, so for it the crop always lies inside).
// centered: padding split before/after as face-api (after = round(diff/2)); otherwise all padding
// goes after (right or bottom). Output: size × size.
FloatImage CropPadResize(const Image& image, int x, int y, int w, int h, bool centered, int size);

struct Affine {
  // image_x = a·c + b·r + tx ; image_y = c_·c + d·r + ty  (chip pixel (c, r))
  double a = 1, b = 0, tx = 0, c = 0, d = 1, ty = 0;
};

// The interpolation kernel WarpAffine uses where the chip ENLARGES the image (one chip pixel
// spans less than one image pixel); elsewhere it is always bilinear (with the box filter past
// 2×), so large faces give the same chip whatever is chosen here.
//  - kBilinear: 2 × 2 taps.
//  - kBicubic: Keys' cubic convolution, a = −0.5 (4 × 4 taps; interpolating, reproduces
//    quadratics).
//  - kLanczos3: sinc windowed by sinc over 3 lobes (6 × 6 taps), weights normalised to sum 1.
// The sharper kernels overshoot at edges; results are clamped to 0..255.
enum class Interpolation { kBilinear, kBicubic, kLanczos3 };

FloatImage WarpAffine(const Image& image, const Affine& chip_to_image, int size,
                      Interpolation enlarge = Interpolation::kBilinear);

// The same sampling into an 8-bit image of out_w × out_h (rounded), without the anti-alias
// reduction (for upscaling or 1:1 crops).
Image WarpAffineToImage(const Image& image, const Affine& out_to_image, int out_w, int out_h);

// Mirror left-right in place.
void FlipHorizontal(FloatImage& img);

}  // namespace facetrail::vision::internal
