"""The covplan command line (click). Imports the library, never the reverse."""
