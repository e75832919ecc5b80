// The client library's status macros are sync's (one set for the project).
#ifndef PALM_CLIENT_MACROS_H_
#define PALM_CLIENT_MACROS_H_

#include "sync/status_macros.h"

#endif  // PALM_CLIENT_MACROS_H_
