from royalty.cli import main

main()
