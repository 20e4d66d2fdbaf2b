"""SpeechCraft lakehouse: the command line and project-wide settings. The work lives in flows/, tasks/, models/, warehouse/."""
