// PALM_EXPORT marks the symbols of Palm's public API. The project builds with
// -fvisibility=hidden, so only marked classes and functions are visible in
// the shared library (libpalm_client.so); everything else stays internal.
#ifndef PALM_EXPORT_H_
#define PALM_EXPORT_H_

#if defined(_WIN32)
#if defined(PALM_BUILDING_LIBRARY)
#define PALM_EXPORT __declspec(dllexport)
#else
#define PALM_EXPORT
#endif
#else
#define PALM_EXPORT __attribute__((visibility("default")))
#endif

#endif  // PALM_EXPORT_H_
