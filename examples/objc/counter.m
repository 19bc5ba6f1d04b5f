#include "counter.h"

#include <objc/runtime.h>

@implementation Counter
+ (id)create
{
  /* GNU's root Object has no +alloc/+new: make the instance with the runtime directly. */
  return class_createInstance(self, 0);
}
- (int)increment
{
  return ++count;
}
- (int)count
{
  return count;
}
@end
