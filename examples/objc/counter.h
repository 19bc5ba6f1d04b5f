/* Objective-C example (GNU runtime, no Foundation): a counter object. Compile with
 * `gcc -c counter.m` (gobjc) or `clang -I"$(gcc -print-file-name=include)" -c counter.m`. */
#include <objc/Object.h>

@interface Counter : Object
{
  int count;
}
+ (id)create;
- (int)increment;
- (int)count;
@end
