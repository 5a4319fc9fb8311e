/* version.h: the of3 release; every program's --version and every bundle's producer use it. */
#ifndef OF3_VERSION_H
#define OF3_VERSION_H

#define OF3_VERSION "0.1.0"

#endif
