/* A tiny library used by the demo: `npm start` compiles it through meshcc twice (miss, then hit). */
#ifndef GREET_H
#define GREET_H

#define GREET_DEFAULT_NAME "world"

/* Writes "hello, NAME" into buf (at most size bytes); returns the length snprintf reports. */
int greet(char *buf, unsigned long size, const char *name);

#endif
