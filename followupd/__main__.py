from followupd.cli import main

main()
