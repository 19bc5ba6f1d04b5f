// Objective-C++ example (GNU runtime, no Foundation): an Objective-C class holding a C++
// container. Compile with `g++ -c tally.mm` (gobjc++) or
// `clang++ -I"$(gcc -print-file-name=include)" -c tally.mm`.
#include <objc/Object.h>
#include <objc/runtime.h>

#include <cstdio>
#include <map>
#include <string>

@interface Tally : Object
{
  std::map<std::string, int> *counts;
}
+ (id)create;
- (void)add:(const char *)word;
- (int)countOf:(const char *)word;
@end

@implementation Tally
+ (id)create
{
  Tally *t = class_createInstance(self, 0);
  t->counts = new std::map<std::string, int>();
  return t;
}
- (void)add:(const char *)word
{
  (*counts)[word]++;
}
- (int)countOf:(const char *)word
{
  auto it = counts->find(word);
  return it == counts->end() ? 0 : it->second;
}
@end

int main()
{
  Tally *t = [Tally create];
  for (const char *w : {"mesh", "cc", "mesh"})
    [t add:w];
  std::printf("objective-c++ tally: mesh=%d cc=%d\n", [t countOf:"mesh"], [t countOf:"cc"]);
  return 0;
}
