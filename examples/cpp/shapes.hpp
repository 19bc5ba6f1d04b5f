// A small C++ example: a few shapes behind an interface, sorted and summarised with the
// standard library. Heavy enough (templates, <map>, <algorithm>) that a cache hit is visible.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace shapes {

class Shape {
 public:
  virtual ~Shape() = default;
  virtual double area() const = 0;
  virtual std::string name() const = 0;
};

std::unique_ptr<Shape> make_circle(double radius);
std::unique_ptr<Shape> make_rect(double w, double h);

// Total area per shape kind, largest first.
std::vector<std::pair<std::string, double>> summarise(const std::vector<std::unique_ptr<Shape>> &all);

}  // namespace shapes
