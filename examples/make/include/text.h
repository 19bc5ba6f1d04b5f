/* Splitting text into words. */
#ifndef TEXT_H
#define TEXT_H

#include "list.h"

/* Appends every whitespace-separated word of text to out; returns how many, or -1. */
int text_words(const char *text, struct list *out);

#endif
