/* aura_eventstream.h - placeholder; its interface lands with issue 4. */
#ifndef AURA_EVENTSTREAM_H
#define AURA_EVENTSTREAM_H
#endif
