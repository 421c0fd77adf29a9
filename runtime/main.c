#include <stdio.h>

int main(void)
{
        puts("husk " HUSK_VERSION);
        return 0;
}
