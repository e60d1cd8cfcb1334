#include "eval/internal/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "eval/internal/report_format.h"
#include "eval/metrics.h"

namespace facetrail::eval::internal {
namespace {

constexpr int kLeft = 62, kRight = 16, kTop = 30, kBottom = 48, kLegendLine = 15;

std::string Fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Maps a data value to [0, 1] along the axis (unclamped; NaN for undrawable values).
double Unit(const Axis& a, double v) {
  auto t = [&a](double u) {
    switch (a.scale) {
      case AxisScale::kLinear: return u;
      case AxisScale::kLog10: return std::log10(std::max(u, a.min));
      case AxisScale::kProbit: return NormalQuantile(std::clamp(u, a.min, a.max));
    }
    return u;
  };
  const double lo = t(a.min), hi = t(a.max);
  if (std::isnan(v)) return std::nan("");
  return (t(v) - lo) / (hi - lo);
}

std::string TickLabel(const Axis& a, double v) {
  if (a.tick_label) return a.tick_label(v);
  return Number(v, 3);
}

struct Frame {
  int width, height;  // without the legend lines added below
  int legend_lines = 0;
  int total_height() const { return height + legend_lines * kLegendLine; }
  double plot_w() const { return width - kLeft - kRight; }
  double plot_h() const { return height - kTop - kBottom; }
  double X(double unit) const { return kLeft + std::clamp(unit, 0.0, 1.0) * plot_w(); }
  double Y(double unit) const { return kTop + (1 - std::clamp(unit, 0.0, 1.0)) * plot_h(); }
};

void Open(std::ostringstream& o, const Frame& f, const std::string& title) {
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << f.width << "\" height=\""
    << f.total_height() << "\" viewBox=\"0 0 " << f.width << ' ' << f.total_height()
    << "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">"
    << "<title>" << HtmlEscape(title) << "</title>"
    << "<text x=\"" << f.width / 2
    << "\" y=\"18\" text-anchor=\"middle\" font-size=\"13\" "
       "font-weight=\"bold\">"
    << HtmlEscape(title) << "</text>"
    << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << Fmt(f.plot_w())
    << "\" height=\"" << Fmt(f.plot_h()) << "\" fill=\"#fff\" stroke=\"#444\"/>";
}

void AxisLabels(std::ostringstream& o, const Frame& f, const std::string& x_label,
                const std::string& y_label) {
  o << "<text x=\"" << Fmt(kLeft + f.plot_w() / 2) << "\" y=\"" << f.height - 8
    << "\" text-anchor=\"middle\">" << HtmlEscape(x_label) << "</text>";
  o << "<text transform=\"translate(14," << Fmt(kTop + f.plot_h() / 2)
    << ") rotate(-90)\" text-anchor=\"middle\">" << HtmlEscape(y_label) << "</text>";
}

// Entries go below the x-axis label, one per line (a Frame reserves kLegendLine for each).
void Legend(std::ostringstream& o, const Frame& f,
            const std::vector<std::pair<std::string, std::string>>& entries,
            const std::vector<bool>& dashed) {
  double y = kTop + f.plot_h() + kBottom + 10;
  for (size_t k = 0; k < entries.size(); ++k) {
    const double x = kLeft;
    o << "<line x1=\"" << Fmt(x) << "\" y1=\"" << Fmt(y - 4) << "\" x2=\"" << Fmt(x + 22)
      << "\" y2=\"" << Fmt(y - 4) << "\" stroke=\"" << entries[k].second << "\" stroke-width=\"2\""
      << (dashed[k] ? " stroke-dasharray=\"5,3\"" : "") << "/>"
      << "<text x=\"" << Fmt(x + 27) << "\" y=\"" << Fmt(y) << "\">" << HtmlEscape(entries[k].first)
      << "</text>";
    y += kLegendLine;
  }
}

void DrawMarkers(std::ostringstream& o, const Frame& f, const std::vector<Marker>& markers,
                 const std::function<double(double)>& unit_x) {
  double label_y = kTop + f.plot_h() - 6;
  for (const Marker& m : markers) {
    const double u = unit_x(m.x);
    if (!(u >= 0 && u <= 1)) continue;
    const double x = f.X(u);
    o << "<line x1=\"" << Fmt(x) << "\" y1=\"" << kTop << "\" x2=\"" << Fmt(x) << "\" y2=\""
      << Fmt(kTop + f.plot_h()) << "\" stroke=\"" << m.color
      << "\" stroke-dasharray=\"2,2\"/><text x=\"" << Fmt(u > 0.7 ? x - 3 : x + 3) << "\" y=\""
      << Fmt(label_y) << "\" fill=\"" << m.color << "\"" << (u > 0.7 ? " text-anchor=\"end\"" : "")
      << ">" << HtmlEscape(m.label) << "</text>";
    label_y -= 13;
  }
}

}  // namespace

std::string LinePlot(const std::string& title, const Axis& x, const Axis& y,
                     const std::vector<Series>& series, const std::vector<Marker>& markers,
                     int width, int height) {
  const Frame f{width, height, static_cast<int>(series.size())};
  std::ostringstream o;
  Open(o, f, title);
  for (double t : x.ticks) {
    const double px = f.X(Unit(x, t));
    o << "<line x1=\"" << Fmt(px) << "\" y1=\"" << kTop << "\" x2=\"" << Fmt(px) << "\" y2=\""
      << Fmt(kTop + f.plot_h()) << "\" stroke=\"#ddd\"/><text x=\"" << Fmt(px) << "\" y=\""
      << Fmt(kTop + f.plot_h() + 14) << "\" text-anchor=\"middle\">" << HtmlEscape(TickLabel(x, t))
      << "</text>";
  }
  for (double t : y.ticks) {
    const double py = f.Y(Unit(y, t));
    o << "<line x1=\"" << kLeft << "\" y1=\"" << Fmt(py) << "\" x2=\"" << Fmt(kLeft + f.plot_w())
      << "\" y2=\"" << Fmt(py) << "\" stroke=\"#ddd\"/><text x=\"" << kLeft - 4 << "\" y=\""
      << Fmt(py + 4) << "\" text-anchor=\"end\">" << HtmlEscape(TickLabel(y, t)) << "</text>";
  }
  DrawMarkers(o, f, markers, [&x](double v) { return Unit(x, v); });
  std::vector<std::pair<std::string, std::string>> legend;
  std::vector<bool> dashed;
  for (const Series& s : series) {
    std::ostringstream path;
    bool empty = true;
    double last_x = -1e9, last_y = -1e9;
    for (size_t k = 0; k < s.points.size(); ++k) {
      const double ux = Unit(x, s.points[k].first), uy = Unit(y, s.points[k].second);
      if (std::isnan(ux) || std::isnan(uy)) continue;
      const double px = f.X(ux), py = f.Y(uy);
      const bool last = k + 1 == s.points.size();
      if (!last && std::abs(px - last_x) < 0.5 && std::abs(py - last_y) < 0.5) continue;
      path << (empty ? 'M' : 'L') << Fmt(px) << ',' << Fmt(py);
      empty = false;
      last_x = px;
      last_y = py;
    }
    if (!empty) {
      o << "<path d=\"" << path.str() << "\" fill=\"none\" stroke=\"" << s.color
        << "\" stroke-width=\"1.8\"" << (s.dashed ? " stroke-dasharray=\"5,3\"" : "") << "/>";
    }
    legend.emplace_back(s.label, s.color);
    dashed.push_back(s.dashed);
  }
  Legend(o, f, legend, dashed);
  AxisLabels(o, f, x.label, y.label);
  o << "</svg>";
  return o.str();
}

std::string HistogramPlot(const std::string& title, const std::string& x_label, double lo,
                          double hi, const std::vector<Bars>& bars,
                          const std::vector<Marker>& markers, int width, int height) {
  const Frame f{width, height, static_cast<int>(bars.size())};
  std::ostringstream o;
  Open(o, f, title);
  double top = 0;
  for (const Bars& b : bars) {
    for (double h : b.heights) top = std::max(top, h);
  }
  if (top <= 0) top = 1;
  Axis x{x_label, lo, hi, AxisScale::kLinear, {}, {}};
  for (int k = 0; k <= 4; ++k) {
    const double v = lo + (hi - lo) * k / 4;
    const double px = f.X(k / 4.0);
    o << "<text x=\"" << Fmt(px) << "\" y=\"" << Fmt(kTop + f.plot_h() + 14)
      << "\" text-anchor=\"middle\">" << Number(v, 3) << "</text>";
  }
  for (int k = 0; k <= 4; ++k) {
    const double py = f.Y(k / 4.0);
    o << "<line x1=\"" << kLeft << "\" y1=\"" << Fmt(py) << "\" x2=\"" << Fmt(kLeft + f.plot_w())
      << "\" y2=\"" << Fmt(py) << "\" stroke=\"#eee\"/><text x=\"" << kLeft - 4 << "\" y=\""
      << Fmt(py + 4) << "\" text-anchor=\"end\">" << Percent(top * k / 4, 1) << "</text>";
  }
  DrawMarkers(o, f, markers, [&x](double v) { return Unit(x, v); });
  std::vector<std::pair<std::string, std::string>> legend;
  std::vector<bool> dashed;
  for (const Bars& b : bars) {
    if (b.heights.empty()) continue;
    const double n = static_cast<double>(b.heights.size());
    std::ostringstream path;
    path << 'M' << Fmt(f.X(0)) << ',' << Fmt(f.Y(0));
    for (size_t k = 0; k < b.heights.size(); ++k) {
      const std::string y = Fmt(f.Y(b.heights[k] / top));
      path << 'L' << Fmt(f.X(k / n)) << ',' << y << 'L' << Fmt(f.X((k + 1) / n)) << ',' << y;
    }
    path << 'L' << Fmt(f.X(1)) << ',' << Fmt(f.Y(0)) << 'Z';
    o << "<path d=\"" << path.str() << "\" fill=\"" << b.color
      << "\" fill-opacity=\"0.25\" stroke=\"" << b.color << "\" stroke-width=\"1.2\"/>";
    legend.emplace_back(b.label, b.color);
    dashed.push_back(false);
  }
  Legend(o, f, legend, dashed);
  AxisLabels(o, f, x_label, "share of the class");
  o << "</svg>";
  return o.str();
}

}  // namespace facetrail::eval::internal
