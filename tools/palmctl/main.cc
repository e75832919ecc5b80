// palmctl: the bureau's admin and squad-leader CLI. The commands live in
// cmd_*.cc and register themselves; see command.h.
#include "tools/palmctl/command.h"

int main(int argc, char** argv) { return palm::palmctl::RunPalmctl(argc, argv); }
