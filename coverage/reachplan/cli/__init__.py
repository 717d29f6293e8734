"""The reachplan command line (click). Imports the library, never the reverse."""
