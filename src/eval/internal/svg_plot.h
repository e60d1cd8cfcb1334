// Minimal SVG line and histogram plots for the HTML report (inline, no script, no fonts to load).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace facetrail::eval::internal {

enum class AxisScale {
  kLinear,
  kLog10,   // values <= 0 are drawn at the axis minimum
  kProbit,  // normal deviate Φ⁻¹(v), for DET plots; values are rates in (0, 1)
};

struct Axis {
  std::string label;
  double min = 0, max = 1;  // in data units
  AxisScale scale = AxisScale::kLinear;
  std::vector<double> ticks;                      // data values with a grid line and a label
  std::function<std::string(double)> tick_label;  // default: %g
};

struct Series {
  std::string label;
  std::string color;  // CSS colour
  bool dashed = false;
  std::vector<std::pair<double, double>> points;  // data units, drawn in order as one line
};

struct Marker {  // a vertical line at x (e.g. a threshold)
  double x = 0;
  std::string label, color;
};

// A line plot; points outside the axes are clamped to the frame. Lines are thinned to one point
// per half pixel, so curves of millions of points stay small.
std::string LinePlot(const std::string& title, const Axis& x, const Axis& y,
                     const std::vector<Series>& series, const std::vector<Marker>& markers = {},
                     int width = 520, int height = 380);

struct Bars {
  std::string label, color;
  std::vector<double> heights;  // one per bin, e.g. fractions of the class
};

// Overlaid step histograms over [lo, hi] with equal bins (all Bars the same length).
std::string HistogramPlot(const std::string& title, const std::string& x_label, double lo,
                          double hi, const std::vector<Bars>& bars,
                          const std::vector<Marker>& markers = {}, int width = 520,
                          int height = 300);

}  // namespace facetrail::eval::internal
