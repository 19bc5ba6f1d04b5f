#include "shapes.hpp"

#include <algorithm>
#include <map>
#include <numbers>

namespace shapes {
namespace {

class Circle final : public Shape {
 public:
  explicit Circle(double r) : r_(r) {}
  double area() const override { return std::numbers::pi * r_ * r_; }
  std::string name() const override { return "circle"; }

 private:
  double r_;
};

class Rect final : public Shape {
 public:
  Rect(double w, double h) : w_(w), h_(h) {}
  double area() const override { return w_ * h_; }
  std::string name() const override { return "rect"; }

 private:
  double w_, h_;
};

}  // namespace

std::unique_ptr<Shape> make_circle(double radius) { return std::make_unique<Circle>(radius); }
std::unique_ptr<Shape> make_rect(double w, double h) { return std::make_unique<Rect>(w, h); }

std::vector<std::pair<std::string, double>> summarise(const std::vector<std::unique_ptr<Shape>> &all) {
  std::map<std::string, double> totals;
  for (const auto &s : all) totals[s->name()] += s->area();
  std::vector<std::pair<std::string, double>> out(totals.begin(), totals.end());
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.second > b.second; });
  return out;
}

}  // namespace shapes
