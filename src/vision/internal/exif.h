// EXIF orientation: finding the tag in a TIFF-structured EXIF block and applying it to pixels.
//
// Hostile input: every offset and count read from the block is bounds-checked against the block
// itself; a malformed block yields orientation 1 (no rotation) rather than an error, because
// the pixels are still valid and the tag is advisory metadata.
#pragma once

#include <cstdint>
#include <span>

#include "vision/image.h"

namespace facetrail::vision::internal {

// Returns the Orientation tag (0x0112) of IFD0 of `exif` when it holds a value in 1..8, else 1.
// `exif` is the TIFF structure ("II*\0" or "MM\0*" first), optionally preceded by the
// "Exif\0\0" identifier that JPEG APP1 segments (and some WebP writers) carry.
int ParseExifOrientation(std::span<const uint8_t> exif);

// Returns `image` turned upright for the given orientation (1..8; others are treated as 1).
// Orientations 5..8 swap width and height.
Image ApplyExifOrientation(const Image& image, int orientation);

}  // namespace facetrail::vision::internal
