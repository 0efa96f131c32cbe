"""Mail in: parsing, threading, loops, attachments and delivering a message to the desk."""
