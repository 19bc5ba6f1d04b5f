#include <cstdio>

#include "shapes.hpp"

int main() {
  std::vector<std::unique_ptr<shapes::Shape>> all;
  all.push_back(shapes::make_circle(1.0));
  all.push_back(shapes::make_rect(2.0, 3.0));
  all.push_back(shapes::make_circle(0.5));
  for (const auto &[name, area] : shapes::summarise(all)) std::printf("%-6s %.3f\n", name.c_str(), area);
  return 0;
}
