// The CandidateSource over the real gallery (gallery/gallery_index.h): exact 1:N search of the
// active bookings' templates, named by booking.
#pragma once

#include <memory>

#include "gallery/gallery_index.h"
#include "gallery/gallery_store.h"
#include "service/search_request.h"

namespace facetrail::service {

// requires: store and index outlive the source; index was opened on store.
// The gallery version recorded with each request is "<gallery_id>@<change counter>".
std::unique_ptr<CandidateSource> MakeGalleryCandidateSource(gallery::GalleryStore& store,
                                                            gallery::GalleryIndex& index);

}  // namespace facetrail::service
